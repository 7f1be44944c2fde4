/// Errors raised while building or loading a tokenizer. Each names its source (usually the file).
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `tokenizer.ggml.model` names a tokenizer family this toolkit does not implement.
    case unsupportedModel(source: String, model: String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this toolkit does not implement.
    case unsupportedPreTokenizer(source: String, name: String)
    /// The vocabulary is empty, too large, or inconsistent with its side tables.
    case invalidVocabulary(source: String, reason: String)
    /// A merge rule is malformed or refers to tokens outside the vocabulary.
    case invalidMerge(source: String, index: Int, merge: String, reason: String)

    public var description: String {
        switch self {
        case .unsupportedModel(let source, let model):
            return "\(source): unsupported tokenizer model '\(model)' (only byte-level BPE, tokenizer.ggml.model = \"gpt2\", is supported)"
        case .unsupportedPreTokenizer(let source, let name):
            let known = PreTokenizer.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(source): unsupported pre-tokenizer '\(name)' in tokenizer.ggml.pre (supported: \(known))"
        case .invalidVocabulary(let source, let reason):
            return "\(source): invalid tokenizer vocabulary: \(reason)"
        case .invalidMerge(let source, let index, let merge, let reason):
            return "\(source): invalid merge #\(index) '\(merge)': \(reason)"
        }
    }
}
