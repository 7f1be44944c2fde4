import Foundation

/// The parts of a Hugging Face `tokenizer_config.json` that matter for encoding: the names of the
/// special tokens (`bos_token`, `eos_token`, `pad_token`, `unk_token`, each a string, an
/// `{"content": ...}` object, or null) and `added_tokens_decoder` (id -> `{"content", "special"}`).
struct TokenizerConfigFile {
    /// What the config says about one special-token role.
    enum Setting: Equatable {
        /// The key is absent: the loader falls back to well-known token names.
        case unspecified
        /// The key is null: there is no such token.
        case null
        /// The token with this text.
        case token(String)
    }

    /// The file it came from.
    let source: String
    /// The setting of each of `bos_token`, `eos_token`, `pad_token`, `unk_token`.
    let settings: [String: Setting]
    /// The entries of `added_tokens_decoder`, by increasing id.
    let addedTokens: [VocabularyAssembler.AddedToken]

    /// The role keys read from the file.
    static let roleKeys = ["bos_token", "eos_token", "pad_token", "unk_token"]

    init(data: Data, source: String) throws {
        let root = try JSONObjectReader.parse(data, source: source)
        self.source = source
        var settings: [String: Setting] = [:]
        for key in Self.roleKeys {
            guard root.object.keys.contains(key) else { settings[key] = .unspecified; continue }
            guard let v = root.value(key) else { settings[key] = .null; continue }
            if let s = v as? String {
                settings[key] = .token(s)
            } else if let o = v as? [String: Any] {
                settings[key] = .token(try JSONObjectReader(object: o, source: source, path: key).string("content"))
            } else {
                throw root.fieldError(key, "expected a string, an object with \"content\", or null")
            }
        }
        self.settings = settings
        var added: [VocabularyAssembler.AddedToken] = []
        if let decoder = try root.optionalObject("added_tokens_decoder") {
            for (key, value) in decoder.object {
                guard let id = Int(key) else { throw decoder.fieldError(key, "the key is not a token id") }
                let entry = try JSONObjectReader.object(value, source: source, path: decoder.keyPath(key))
                added.append(.init(id: id, content: try entry.string("content"),
                                   special: try entry.bool("special", default: false), source: source))
            }
        }
        addedTokens = added.sorted { $0.id < $1.id }
    }

    /// Reads the file at `path`.
    init(path: String) throws {
        try self.init(data: TokenizerDefinition.readFile(path), source: path)
    }

    /// The id for role `key`: the configured token looked up in `vocabulary` (an error naming
    /// this file and the key if it is not there), nil when the config sets it to null, and
    /// otherwise the first of `fallbacks` found in `fallbackIDs`.
    static func resolve(_ key: String, config: TokenizerConfigFile?, vocabulary ids: [String: Int],
                        fallbacks: [String], in fallbackIDs: [String: Int]) throws -> Int32? {
        switch config?.settings[key] ?? .unspecified {
        case .null:
            return nil
        case .token(let name):
            guard let id = ids[name] else {
                throw TokenizerError.invalidField(source: config!.source, key: key,
                                                  reason: "'\(name)' is not in the vocabulary")
            }
            return Int32(exactly: id)
        case .unspecified:
            for name in fallbacks {
                if let id = fallbackIDs[name] { return Int32(exactly: id) }
            }
            return nil
        }
    }
}
