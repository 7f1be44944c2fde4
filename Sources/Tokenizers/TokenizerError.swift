/// Errors raised while building or loading a tokenizer. Each names its source (usually the file)
/// and, where there is one, the key or line at fault.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The model is not byte-level BPE (`tokenizer.ggml.model` in GGUF, `model.type` in tokenizer.json).
    case unsupportedModel(source: String, model: String)
    /// The pre-tokenizer (`tokenizer.ggml.pre` in GGUF, `pre_tokenizer` in tokenizer.json) is not
    /// one this toolkit implements; `name` is its GGUF name or a description of the JSON.
    case unsupportedPreTokenizer(source: String, name: String)
    /// Another tokenizer.json component (`normalizer`, `decoder`, `post_processor`, a `model`
    /// option) is set to something this toolkit does not implement.
    case unsupportedComponent(source: String, key: String, description: String)
    /// The vocabulary is empty, too large, or inconsistent with its side tables.
    case invalidVocabulary(source: String, reason: String)
    /// A merge rule is malformed or refers to tokens outside the vocabulary; `index` is its rank
    /// (position in `tokenizer.ggml.merges` or tokenizer.json's `model.merges`).
    case invalidMerge(source: String, index: Int, merge: String, reason: String)
    /// A line of a merges.txt file is malformed or refers to tokens outside the vocabulary;
    /// `line` counts from 1.
    case invalidMergesLine(source: String, line: Int, text: String, reason: String)
    /// The file does not exist or cannot be read.
    case unreadableFile(path: String, reason: String)
    /// The file is not valid JSON (or, for merges.txt, not UTF-8).
    case malformedFile(source: String, reason: String)
    /// A key is missing or holds a value of the wrong kind; `key` is a path such as `model.vocab`.
    case invalidField(source: String, key: String, reason: String)
    /// Two vocabulary entries share one id.
    case duplicateTokenID(source: String, id: Int, first: String, second: String)
    /// A token's id is negative or not below the number of distinct ids (ids must number the
    /// vocabulary densely from 0).
    case tokenIDOutOfRange(source: String, token: String, id: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case .unsupportedModel(let source, let model):
            return "\(source): unsupported tokenizer model '\(model)' (only byte-level BPE is supported: "
                + "tokenizer.ggml.model \"gpt2\" in GGUF, model.type \"BPE\" in tokenizer.json)"
        case .unsupportedPreTokenizer(let source, let name):
            let known = PreTokenizer.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(source): unsupported pre-tokenizer '\(name)' (supported: \(known); in tokenizer.json: ByteLevel, "
                + "Sequence[Digits(individual_digits), ByteLevel], Sequence[Split(Llama 3 regex), ByteLevel(use_regex: false)])"
        case .unsupportedComponent(let source, let key, let description):
            return "\(source): unsupported \(key): \(description)"
        case .invalidVocabulary(let source, let reason):
            return "\(source): invalid tokenizer vocabulary: \(reason)"
        case .invalidMerge(let source, let index, let merge, let reason):
            return "\(source): invalid merge #\(index) '\(merge)': \(reason)"
        case .invalidMergesLine(let source, let line, let text, let reason):
            return "\(source):\(line): invalid merge '\(text)': \(reason)"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read tokenizer file: \(reason)"
        case .malformedFile(let source, let reason):
            return "\(source): malformed file: \(reason)"
        case .invalidField(let source, let key, let reason):
            return "\(source): invalid '\(key)': \(reason)"
        case .duplicateTokenID(let source, let id, let first, let second):
            return "\(source): tokens '\(first)' and '\(second)' both have id \(id)"
        case .tokenIDOutOfRange(let source, let token, let id, let size):
            return "\(source): token '\(token)' has id \(id), outside 0..<\(size) "
                + "(ids must number the \(size) tokens densely from 0)"
        }
    }
}
