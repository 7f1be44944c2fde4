import Foundation

/// Builds the dense id -> token table of a Hugging Face vocabulary from the model's token -> id
/// map plus the added tokens (tokenizer.json `added_tokens`, tokenizer_config.json
/// `added_tokens_decoder`), checking that no id is used twice and that the ids number the
/// tokens densely from 0.
///
/// Added tokens keep their literal text; a special one becomes `.control` (matched in text only
/// when special tokens are allowed), a non-special one `.userDefined` (always matched), as
/// Hugging Face's `encode_special_tokens` treats them. An added token may repeat a model entry
/// (same id, same text), as SmolLM2's do.
struct VocabularyAssembler {
    /// One added token.
    struct AddedToken {
        let id: Int
        let content: String
        let special: Bool
        /// The file that declared it.
        let source: String
    }

    private struct Entry {
        var token: String
        var type: TokenType
        var source: String
    }

    private var byID: [Int: Entry] = [:]
    /// The latest id of each text (added tokens win over model entries, as in Hugging Face).
    private(set) var idOfText: [String: Int] = [:]

    /// Adds the model's entries, e.g. tokenizer.json `model.vocab` or vocab.json, read at `path`
    /// of `source`. Each value must be an integer id.
    mutating func addModelVocabulary(_ vocab: [String: Any], source: String, path: String) throws {
        byID.reserveCapacity(vocab.count)
        idOfText.reserveCapacity(vocab.count)
        for (token, value) in vocab {
            guard let id = JSONObjectReader.integer(value) else {
                throw TokenizerError.invalidField(source: source, key: "\(path)[\(Self.quoted(token))]",
                                                  reason: "the id is not an integer")
            }
            if let existing = byID[id] {
                let (a, b) = existing.token < token ? (existing.token, token) : (token, existing.token)
                throw TokenizerError.duplicateTokenID(source: source, id: id, first: a, second: b)
            }
            byID[id] = Entry(token: token, type: .normal, source: source)
            idOfText[token] = id
        }
    }

    /// Adds one added token; if its id is already a model entry the text must be the same.
    mutating func add(_ t: AddedToken) throws {
        let type: TokenType = t.special ? .control : .userDefined
        if let existing = byID[t.id] {
            guard existing.token == t.content else {
                throw TokenizerError.duplicateTokenID(source: t.source, id: t.id, first: existing.token, second: t.content)
            }
            byID[t.id]?.type = type
        } else {
            byID[t.id] = Entry(token: t.content, type: type, source: t.source)
        }
        idOfText[t.content] = t.id
    }

    /// The tokens and their types, indexed by id.
    func build() throws -> (tokens: [String], types: [TokenType]) {
        let n = byID.count
        // Report the smallest offending id so the message does not depend on hashing order.
        if let bad = byID.filter({ $0.key < 0 || $0.key >= n }).min(by: { $0.key < $1.key }) {
            throw TokenizerError.tokenIDOutOfRange(source: bad.value.source, token: bad.value.token, id: bad.key,
                                                   vocabularySize: n)
        }
        var tokens = [String](repeating: "", count: n)
        var types = [TokenType](repeating: .normal, count: n)
        for (id, e) in byID {
            tokens[id] = e.token
            types[id] = e.type
        }
        return (tokens, types)
    }

    /// `s` as a JSON string literal, for key paths in messages.
    static func quoted(_ s: String) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed]),
              let text = String(data: data, encoding: .utf8) else { return "\"\(s)\"" }
        return String(text.dropFirst().dropLast())
    }
}
