import Foundation

/// Reads a Hugging Face `tokenizer.json` describing a byte-level BPE tokenizer.
///
/// Accepted:
/// - `model`: `type` "BPE"; `vocab` (token -> id); `merges` as "left right" strings or as
///   ["left", "right"] pairs (both forms occur in the wild: `tokenizers` before 0.20 wrote the
///   first); `unk_token`; `ignore_merges`. `dropout`, `continuing_subword_prefix`,
///   `end_of_word_suffix` and `byte_fallback` must be unset.
/// - `added_tokens`: each `{id, content, special}`; special ones become `.control` tokens
///   (matched in text when special tokens are allowed), others `.userDefined` (always matched).
///   The model's ids and the added ids together must number the vocabulary densely from 0.
/// - `pre_tokenizer`: `ByteLevel` (GPT-2's regex, with or without `add_prefix_space`);
///   `Sequence[Digits(individual_digits: true), ByteLevel]` (SmolLM2, `.smollm`);
///   `Sequence[Split(Regex: Llama 3's pattern, Isolated), ByteLevel(use_regex: false)]` (`.llama3`).
/// - `normalizer`: null; `decoder`: `ByteLevel`.
/// - `post_processor`: null, `ByteLevel`, `TemplateProcessing` whose `single` template is `$A`
///   or one special token then `$A` (that token becomes the BOS, added by default), or a
///   `Sequence` of those.
///
/// Special token ids: `bos_token`, `eos_token`, `pad_token`, `unk_token` of the tokenizer_config.json
/// when given (a null there means none); otherwise `model.unk_token` for the unknown token and
/// added tokens with well-known names (`<s>`/`<|begin_of_text|>`/`<|endoftext|>` for BOS,
/// `</s>`/`<|end_of_text|>`/`<|endoftext|>` for EOS, `<pad>`, `<unk>`). A BOS from the
/// post-processor template takes precedence.
///
/// Anything else is rejected with a `TokenizerError` naming the file and the key. Not modelled:
/// `truncation` and `padding` (runtime options of `encode` in Hugging Face); the
/// `lstrip`/`rstrip`/`single_word`/`normalized` flags of added tokens (false in GPT-2, SmolLM2
/// and Llama 3); tokenizer_config.json's `added_tokens_decoder` (tokenizer.json's
/// `added_tokens` is authoritative) and `add_bos_token` (the post-processor decides). Added
/// tokens decode to their literal text; Hugging Face's ByteLevel decoder gives the same except
/// for an added token made only of byte-level characters some of which are not ASCII (such as
/// "Ġx" or "é"), which it maps back through the byte table.
enum TokenizerJSONLoader {
    static let bosFallbacks = ["<s>", "<|begin_of_text|>", "<|endoftext|>"]
    static let eosFallbacks = ["</s>", "<|end_of_text|>", "<|endoftext|>"]
    static let padFallbacks = ["<pad>"]
    static let unkFallbacks = ["<unk>"]

    /// Reads the file at `path`, with the tokenizer_config.json at `configPath` or, when that is
    /// nil, the one in the same folder if it exists.
    static func load(path: String, configPath: String?) throws -> TokenizerDefinition {
        let data = try TokenizerDefinition.readFile(path)
        let config = try (configPath ?? TokenizerDefinition.sibling("tokenizer_config.json", of: path))
            .map { try TokenizerConfigFile(path: $0) }
        return try definition(json: data, source: path, config: config)
    }

    /// Reads tokenizer.json contents `json` (from `source`) and optional config contents.
    static func definition(json: Data, source: String, config: Data?, configSource: String) throws -> TokenizerDefinition {
        let parsed = try config.map { try TokenizerConfigFile(data: $0, source: configSource) }
        return try definition(json: json, source: source, config: parsed)
    }

    static func definition(json: Data, source: String, config: TokenizerConfigFile?) throws -> TokenizerDefinition {
        let root = try JSONObjectReader.parse(json, source: source)
        let model = try root.object("model")
        let type = try model.string("type")
        guard type == "BPE" else { throw TokenizerError.unsupportedModel(source: source, model: type) }
        let (pre, prefixSpace) = try preTokenizer(of: root)
        try checkNormalizer(of: root)
        try checkDecoder(of: root)
        try checkModelOptions(model)

        var assembler = VocabularyAssembler()
        guard let vocab = model.value("vocab") else { throw model.fieldError("vocab", "missing") }
        guard let vocabObject = vocab as? [String: Any] else {
            throw model.fieldError("vocab", "expected an object mapping tokens to ids")
        }
        try assembler.addModelVocabulary(vocabObject, source: source, path: model.keyPath("vocab"))
        var addedIDs: [String: Int] = [:]
        if root.has("added_tokens") {
            for (i, item) in try root.array("added_tokens").enumerated() {
                let e = try JSONObjectReader.object(item, source: source, path: "added_tokens[\(i)]")
                let token = VocabularyAssembler.AddedToken(id: try e.int("id"), content: try e.string("content"),
                                                           special: try e.bool("special", default: false), source: source)
                guard !token.content.isEmpty else { throw e.fieldError("content", "an added token cannot be empty") }
                try assembler.add(token)
                addedIDs[token.content] = token.id
            }
        }
        let (tokens, types) = try assembler.build()
        let ids = assembler.idOfText

        var d = TokenizerDefinition(tokens: tokens, tokenTypes: types, merges: try mergePairs(of: model),
                                    preTokenizer: pre, source: source)
        d.addPrefixSpace = prefixSpace
        d.ignoreMerges = try model.bool("ignore_merges", default: false)
        if let templateBOS = try root.value("post_processor").flatMap({
            try bos(inPostProcessor: $0, source: source, path: "post_processor")
        }) {
            d.bosID = templateBOS
            d.addBOS = true
        } else {
            d.bosID = try TokenizerConfigFile.resolve("bos_token", config: config, vocabulary: ids,
                                                      fallbacks: bosFallbacks, in: addedIDs)
        }
        d.eosID = try TokenizerConfigFile.resolve("eos_token", config: config, vocabulary: ids,
                                                  fallbacks: eosFallbacks, in: addedIDs)
        d.padID = try TokenizerConfigFile.resolve("pad_token", config: config, vocabulary: ids,
                                                  fallbacks: padFallbacks, in: addedIDs)
        var modelUnknown: Int32? = nil
        if let name = try model.optionalString("unk_token") {
            guard let id = ids[name] else { throw model.fieldError("unk_token", "'\(name)' is not in the vocabulary") }
            modelUnknown = Int32(exactly: id)
        }
        if let modelUnknown, (config?.settings["unk_token"] ?? .unspecified) == .unspecified {
            d.unknownID = modelUnknown
        } else {
            d.unknownID = try TokenizerConfigFile.resolve("unk_token", config: config, vocabulary: ids,
                                                          fallbacks: unkFallbacks, in: addedIDs)
        }
        return d
    }

    // MARK: - Components

    /// The pre-tokenizer and its add_prefix_space flag.
    static func preTokenizer(of root: JSONObjectReader) throws -> (PreTokenizer, Bool) {
        guard let value = root.value("pre_tokenizer") else {
            throw TokenizerError.unsupportedPreTokenizer(source: root.source, name: "null (no pre-tokenizer)")
        }
        let unsupported = TokenizerError.unsupportedPreTokenizer(source: root.source, name: describe(value))
        let pre = try JSONObjectReader.object(value, source: root.source, path: "pre_tokenizer")
        var steps = [pre]
        if try pre.string("type") == "Sequence" {
            steps = try pre.array("pretokenizers").enumerated().map { i, step in
                try JSONObjectReader.object(step, source: root.source, path: "pre_tokenizer.pretokenizers[\(i)]")
            }
        }
        switch try steps.map({ try $0.string("type") }) {
        case ["ByteLevel"]:
            let byteLevel = steps[0]
            guard try byteLevel.bool("use_regex", default: true) else { throw unsupported }
            return (.gpt2, try byteLevel.bool("add_prefix_space"))
        case ["Digits", "ByteLevel"]:
            let individual = try steps[0].bool("individual_digits", default: false)
            let regex = try steps[1].bool("use_regex", default: true)
            let prefix = try steps[1].bool("add_prefix_space")
            guard individual && regex && !prefix else { throw unsupported }
            return (.smollm, false)
        case ["Split", "ByteLevel"]:
            let split = steps[0]
            let pattern = try split.object("pattern")
            let regex = pattern.value("Regex") as? String
            let isolated = try split.string("behavior") == "Isolated"
            let invert = try split.bool("invert", default: false)
            let byteLevelRegex = try steps[1].bool("use_regex", default: true)
            let prefix = try steps[1].bool("add_prefix_space")
            guard regex == PreTokenizer.llama3Pattern, isolated, !invert, !byteLevelRegex, !prefix else { throw unsupported }
            return (.llama3, false)
        default:
            throw unsupported
        }
    }

    static func checkNormalizer(of root: JSONObjectReader) throws {
        guard let value = root.value("normalizer") else { return }
        let n = try JSONObjectReader.object(value, source: root.source, path: "normalizer")
        if try n.string("type") == "Sequence", let list = n.value("normalizers") as? [Any], list.isEmpty { return }
        throw TokenizerError.unsupportedComponent(source: root.source, key: "normalizer", description: describe(value))
    }

    static func checkDecoder(of root: JSONObjectReader) throws {
        guard let value = root.value("decoder") else {
            throw TokenizerError.unsupportedComponent(source: root.source, key: "decoder",
                description: "null (ids would decode to byte-level text; a ByteLevel decoder is required)")
        }
        let d = try JSONObjectReader.object(value, source: root.source, path: "decoder")
        guard try d.string("type") == "ByteLevel" else {
            throw TokenizerError.unsupportedComponent(source: root.source, key: "decoder", description: describe(value))
        }
    }

    static func checkModelOptions(_ model: JSONObjectReader) throws {
        func unsupported(_ key: String, _ what: String) -> TokenizerError {
            .unsupportedComponent(source: model.source, key: model.keyPath(key), description: what)
        }
        if let dropout = model.value("dropout") {
            guard let p = dropout as? Double, !JSONObjectReader.isBoolean(dropout) else {
                throw model.fieldError("dropout", "expected a number or null")
            }
            if p != 0 { throw unsupported("dropout", "BPE dropout \(p) (only deterministic BPE is implemented)") }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = try model.optionalString(key), !s.isEmpty {
                throw unsupported(key, "'\(s)' (byte-level BPE has no subword markers)")
            }
        }
        if try model.bool("byte_fallback", default: false) {
            throw unsupported("byte_fallback", "true (SentencePiece-style BPE with <0xNN> byte tokens)")
        }
    }

    /// The merges in rank order, from "left right" strings or ["left", "right"] pairs.
    static func mergePairs(of model: JSONObjectReader) throws -> [(String, String)] {
        let list = try model.array("merges")
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            if let s = item as? String {
                // Byte-level tokens never contain a real space, so one space separates the two.
                let parts = s.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw TokenizerError.invalidMerge(source: model.source, index: i, merge: s,
                                                      reason: "expected two tokens separated by one space")
                }
                pairs.append((String(parts[0]), String(parts[1])))
            } else if let a = item as? [Any], a.count == 2, let l = a[0] as? String, let r = a[1] as? String {
                pairs.append((l, r))
            } else {
                throw TokenizerError.invalidMerge(source: model.source, index: i, merge: compactJSON(item),
                                                  reason: "expected \"left right\" or [\"left\", \"right\"]")
            }
        }
        return pairs
    }

    /// The BOS id a post-processor prepends, nil if none; unsupported templates are errors.
    static func bos(inPostProcessor value: Any, source: String, path: String) throws -> Int32? {
        let p = try JSONObjectReader.object(value, source: source, path: path)
        switch try p.string("type") {
        case "ByteLevel":
            return nil
        case "Sequence":
            var found: Int32? = nil
            for (i, item) in try p.array("processors").enumerated() {
                guard let b = try bos(inPostProcessor: item, source: source, path: "\(path).processors[\(i)]") else { continue }
                guard found == nil else {
                    throw TokenizerError.unsupportedComponent(source: source, key: path, description: "two templates that both add a token")
                }
                found = b
            }
            return found
        case "TemplateProcessing":
            var before: [String] = [], after: [String] = [], sawText = false
            for (i, item) in try p.array("single").enumerated() {
                let piece = try JSONObjectReader.object(item, source: source, path: "\(path).single[\(i)]")
                if let special = try piece.optionalObject("SpecialToken") {
                    let name = try special.string("id")
                    if sawText { after.append(name) } else { before.append(name) }
                } else if let sequence = try piece.optionalObject("Sequence") {
                    guard try sequence.string("id") == "A", !sawText else {
                        throw TokenizerError.unsupportedComponent(source: source, key: "\(path).single",
                                                                  description: "a template with a second sequence")
                    }
                    sawText = true
                } else {
                    throw TokenizerError.invalidField(source: source, key: piece.path,
                                                      reason: "expected a SpecialToken or a Sequence")
                }
            }
            guard sawText, before.count <= 1, after.isEmpty else {
                let shown = (before + (sawText ? ["$A"] : []) + after).joined(separator: " ")
                throw TokenizerError.unsupportedComponent(source: source, key: "\(path).single",
                    description: "template '\(shown)' (only '$A' or one special token followed by '$A' is supported)")
            }
            guard let name = before.first else { return nil }
            let entry = try p.object("special_tokens").object(name)
            let ids = try entry.array("ids")
            guard ids.count == 1, let id = JSONObjectReader.integer(ids[0]), let id32 = Int32(exactly: id) else {
                throw entry.fieldError("ids", "expected exactly one token id")
            }
            return id32
        default:
            throw TokenizerError.unsupportedComponent(source: source, key: path, description: describe(value))
        }
    }

    // MARK: - Messages

    /// A short description of a JSON component for messages, e.g.
    /// `Sequence[Digits(individual_digits: false), ByteLevel(add_prefix_space: false, ...)]`.
    static func describe(_ value: Any) -> String {
        guard let o = value as? [String: Any], let type = o["type"] as? String else { return compactJSON(value) }
        if type == "Sequence", let items = (o["pretokenizers"] ?? o["normalizers"] ?? o["processors"]
                                            ?? o["decoders"]) as? [Any] {
            return "Sequence[\(items.map(describe).joined(separator: ", "))]"
        }
        let params = o.filter { $0.key != "type" }.sorted { $0.key < $1.key }.map { "\($0.key): \(compactJSON($0.value))" }
        return params.isEmpty ? type : "\(type)(\(params.joined(separator: ", ")))"
    }

    /// `value` as compact JSON text.
    static func compactJSON(_ value: Any) -> String {
        if JSONObjectReader.isBoolean(value), let b = value as? Bool { return b ? "true" : "false" }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return "\(value)" }
        return text
    }
}
