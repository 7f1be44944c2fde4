import Foundation
import IO

/// A byte-level BPE tokenizer (GPT-2 family: GPT-2, SmolLM/SmolLM2, Llama 3, StarCoder, ...).
///
/// Text is first split around special tokens, then into pre-tokens by `preTokenizer`; each
/// pre-token's UTF-8 bytes start as single-byte tokens and are merged pairwise, lowest merge rank
/// first (leftmost on ties), exactly as Hugging Face `tokenizers` and llama.cpp do.
///
/// Load one from a GGUF file's metadata (`init(ggufPath:)`), a Hugging Face `tokenizer.json`
/// (`init(tokenizerJSONPath:)`) or GPT-2's `vocab.json` + `merges.txt`
/// (`init(vocabJSONPath:mergesPath:)`), or build one from a vocabulary and merges.
///
/// The tokenizer is immutable and thread-safe. `encode` is convenient for single strings; for bulk
/// work keep a `BPEEncoder` (it caches each distinct pre-token) or call `encodeBatch`, which
/// encodes in parallel.
public final class BPETokenizer: Sendable {
    /// Where the tokenizer came from (a file path or a description), used in messages.
    public let source: String
    /// Vocabulary entries as stored (byte-level text for normal tokens, literal text for special).
    public let tokens: [String]
    /// The type of each vocabulary entry.
    public let tokenTypes: [TokenType]
    /// The pre-tokenizer applied before BPE.
    public let preTokenizer: PreTokenizer
    /// Whether each stretch of text between special tokens that does not start with a space gets
    /// one prepended before pre-tokenization (Hugging Face `ByteLevel(add_prefix_space: true)`).
    public let addPrefixSpace: Bool
    /// Whether a pre-token that is itself a vocabulary entry becomes that token without merging
    /// (Hugging Face BPE `ignore_merges`, set by Llama 3; llama.cpp does the same for "llama-bpe").
    public let ignoreMerges: Bool
    /// Beginning-of-sequence token id, if any.
    public let bosID: Int32?
    /// End-of-sequence token id, if any (for SmolLM2-Instruct this is `<|im_end|>`).
    public let eosID: Int32?
    /// Padding token id, if any.
    public let padID: Int32?
    /// Unknown-token id, if any (informational: bytes missing from the vocabulary are dropped,
    /// as Hugging Face and llama.cpp do for byte-level BPE).
    public let unknownID: Int32?
    /// Whether `encode` prepends `bosID` by default (`tokenizer.ggml.add_bos_token`, or a
    /// tokenizer.json post-processor template that starts with a special token).
    public let addBOS: Bool
    /// Number of merge rules.
    public let mergeCount: Int

    let tokenToID: [String: Int32]
    /// Packed (left << 32 | right) -> packed (rank << 32 | merged id).
    let merges: [UInt64: UInt64]
    /// Token id of each single byte, -1 when the vocabulary lacks it.
    let byteTokenIDs: [Int32]
    /// The raw bytes each token stands for.
    let tokenByteTable: [[UInt8]]
    let specials: SpecialTokenMatcher

    /// Number of entries in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    /// Builds a tokenizer from a vocabulary and merge rules written "left right" (one space).
    ///
    /// - Parameters:
    ///   - tokens: vocabulary entries; index = token id.
    ///   - tokenTypes: one type per token, or nil for all `.normal`.
    ///   - merges: merge rules "left right" in rank order (first = applied first).
    public convenience init(tokens: [String], tokenTypes: [TokenType]? = nil, merges: [String], preTokenizer: PreTokenizer,
                            addPrefixSpace: Bool = false, ignoreMerges: Bool = false,
                            bosID: Int32? = nil, eosID: Int32? = nil, padID: Int32? = nil, unknownID: Int32? = nil,
                            addBOS: Bool = false, source: String = "<in-memory tokenizer>") throws {
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(merges.count)
        for (rank, m) in merges.enumerated() {
            let parts = m.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.invalidMerge(source: source, index: rank, merge: m, reason: "expected two tokens separated by one space")
            }
            pairs.append((String(parts[0]), String(parts[1])))
        }
        try self.init(tokens: tokens, tokenTypes: tokenTypes, mergePairs: pairs, preTokenizer: preTokenizer,
                      addPrefixSpace: addPrefixSpace, ignoreMerges: ignoreMerges,
                      bosID: bosID, eosID: eosID, padID: padID, unknownID: unknownID, addBOS: addBOS, source: source)
    }

    /// Builds a tokenizer from a vocabulary and merge rules given as (left, right) pairs.
    ///
    /// - Parameters:
    ///   - tokens: vocabulary entries; index = token id.
    ///   - tokenTypes: one type per token, or nil for all `.normal`.
    ///   - mergePairs: merge rules in rank order (first = applied first); both tokens and their
    ///     concatenation must be in the vocabulary.
    ///   - addPrefixSpace: see `addPrefixSpace`.
    ///   - ignoreMerges: see `ignoreMerges`.
    public init(tokens: [String], tokenTypes: [TokenType]? = nil, mergePairs: [(String, String)], preTokenizer: PreTokenizer,
                addPrefixSpace: Bool = false, ignoreMerges: Bool = false,
                bosID: Int32? = nil, eosID: Int32? = nil, padID: Int32? = nil, unknownID: Int32? = nil,
                addBOS: Bool = false, source: String = "<in-memory tokenizer>") throws {
        guard !tokens.isEmpty else { throw TokenizerError.invalidVocabulary(source: source, reason: "the vocabulary is empty") }
        guard tokens.count < Int(Int32.max) else {
            throw TokenizerError.invalidVocabulary(source: source, reason: "\(tokens.count) tokens exceed the Int32 id range")
        }
        let types = tokenTypes ?? Array(repeating: .normal, count: tokens.count)
        guard types.count == tokens.count else {
            throw TokenizerError.invalidVocabulary(source: source,
                reason: "\(types.count) token types for \(tokens.count) tokens")
        }
        for (name, id) in [("bos", bosID), ("eos", eosID), ("padding", padID), ("unknown", unknownID)] {
            if let id, id < 0 || Int(id) >= tokens.count {
                throw TokenizerError.invalidVocabulary(source: source,
                    reason: "\(name) token id \(id) is outside the vocabulary of \(tokens.count)")
            }
        }
        guard mergePairs.count < Int(UInt32.max) else {
            throw TokenizerError.invalidVocabulary(source: source, reason: "\(mergePairs.count) merges exceed the UInt32 rank range")
        }
        self.source = source
        self.tokens = tokens
        self.tokenTypes = types
        self.preTokenizer = preTokenizer
        self.addPrefixSpace = addPrefixSpace
        self.ignoreMerges = ignoreMerges
        self.bosID = bosID
        self.eosID = eosID
        self.padID = padID
        self.unknownID = unknownID
        self.addBOS = addBOS

        var toID: [String: Int32] = [:]
        toID.reserveCapacity(tokens.count)
        var table: [[UInt8]] = []
        table.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            if toID[t] == nil { toID[t] = Int32(i) }
            if types[i].isSpecial {
                table.append(Array(t.utf8))
            } else {
                var bytes: [UInt8] = []
                for s in t.unicodeScalars {
                    if let b = ByteLevelEncoding.byte(for: s) { bytes.append(b) } else { bytes.append(contentsOf: String(s).utf8) }
                }
                table.append(bytes)
            }
        }
        tokenToID = toID
        tokenByteTable = table

        var byteIDs = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = toID[String(ByteLevelEncoding.byteToScalar[b])], !types[Int(id)].isSpecial { byteIDs[b] = id }
        }
        byteTokenIDs = byteIDs

        var mergeTable: [UInt64: UInt64] = [:]
        mergeTable.reserveCapacity(mergePairs.count)
        for (rank, (left, right)) in mergePairs.enumerated() {
            guard let l = toID[left] else {
                throw TokenizerError.invalidMerge(source: source, index: rank, merge: "\(left) \(right)",
                                                  reason: "a part is not in the vocabulary: '\(left)'")
            }
            guard let r = toID[right] else {
                throw TokenizerError.invalidMerge(source: source, index: rank, merge: "\(left) \(right)",
                                                  reason: "a part is not in the vocabulary: '\(right)'")
            }
            guard let merged = toID[left + right] else {
                throw TokenizerError.invalidMerge(source: source, index: rank, merge: "\(left) \(right)",
                                                  reason: "the merged token is not in the vocabulary: '\(left + right)'")
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if mergeTable[key] == nil {
                mergeTable[key] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(merged))
            }
        }
        self.merges = mergeTable
        self.mergeCount = mergePairs.count
        specials = SpecialTokenMatcher(tokens: tokens, types: types)
    }

    /// Builds the tokenizer a file loader described.
    convenience init(definition d: TokenizerDefinition) throws {
        do {
            try self.init(tokens: d.tokens, tokenTypes: d.tokenTypes, mergePairs: d.merges, preTokenizer: d.preTokenizer,
                          addPrefixSpace: d.addPrefixSpace, ignoreMerges: d.ignoreMerges,
                          bosID: d.bosID, eosID: d.eosID, padID: d.padID, unknownID: d.unknownID,
                          addBOS: d.addBOS, source: d.source)
        } catch TokenizerError.invalidMerge(_, let index, let merge, let reason) where d.mergesFile != nil {
            let file = d.mergesFile!
            throw TokenizerError.invalidMergesLine(source: file.path, line: file.lines[index], text: merge, reason: reason)
        }
    }

    // MARK: - Loading

    /// Loads the tokenizer stored in a GGUF file's metadata.
    public convenience init(ggufPath: String) throws {
        try self.init(gguf: GGUFFile(path: ggufPath))
    }

    /// Builds the tokenizer from GGUF metadata: `tokenizer.ggml.model` must be "gpt2";
    /// `tokenizer.ggml.pre` selects the pre-tokenizer (GPT-2's when absent; Llama 3's also turns
    /// on `ignoreMerges`, as llama.cpp does); tokens, merges, token types, special ids and
    /// `add_bos_token` are read from their keys.
    public convenience init(gguf: GGUFFile) throws {
        let src = gguf.path
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" else { throw TokenizerError.unsupportedModel(source: src, model: model) }
        var pre = PreTokenizer.gpt2
        if gguf.contains("tokenizer.ggml.pre") {
            let name = try gguf.string("tokenizer.ggml.pre")
            guard let p = PreTokenizer(ggmlName: name) else {
                throw TokenizerError.unsupportedPreTokenizer(source: src, name: name)
            }
            pre = p
        }
        let tokens = try gguf.stringArray("tokenizer.ggml.tokens")
        var types: [TokenType]? = nil
        if gguf.contains("tokenizer.ggml.token_type") {
            let raw = try gguf.intArray("tokenizer.ggml.token_type")
            guard raw.count == tokens.count else {
                throw TokenizerError.invalidVocabulary(source: src,
                    reason: "tokenizer.ggml.token_type has \(raw.count) entries for \(tokens.count) tokens")
            }
            types = try raw.enumerated().map { i, v in
                guard let t = Int32(exactly: v).flatMap(TokenType.init(rawValue:)) else {
                    throw TokenizerError.invalidVocabulary(source: src, reason: "token \(i) has unknown token type \(v)")
                }
                return t
            }
        }
        let merges = try gguf.stringArray("tokenizer.ggml.merges")
        func optionalID(_ key: String) throws -> Int32? {
            guard gguf.contains(key) else { return nil }
            let v = try gguf.int(key)
            guard let id = Int32(exactly: v) else {
                throw TokenizerError.invalidVocabulary(source: src, reason: "\(key) = \(v) is not a valid token id")
            }
            return id
        }
        let addBOS = gguf.contains("tokenizer.ggml.add_bos_token") ? try gguf.bool("tokenizer.ggml.add_bos_token") : false
        try self.init(tokens: tokens, tokenTypes: types, merges: merges, preTokenizer: pre,
                      ignoreMerges: pre == .llama3,
                      bosID: try optionalID("tokenizer.ggml.bos_token_id"),
                      eosID: try optionalID("tokenizer.ggml.eos_token_id"),
                      padID: try optionalID("tokenizer.ggml.padding_token_id"),
                      unknownID: try optionalID("tokenizer.ggml.unknown_token_id"),
                      addBOS: addBOS, source: src)
    }

    /// Loads a Hugging Face `tokenizer.json` (see `TokenizerJSONLoader` for what is accepted).
    ///
    /// Special token ids come from `tokenizerConfigPath`, or when that is nil from a
    /// `tokenizer_config.json` in the same folder if there is one.
    public convenience init(tokenizerJSONPath: String, tokenizerConfigPath: String? = nil) throws {
        try self.init(definition: TokenizerJSONLoader.load(path: tokenizerJSONPath, configPath: tokenizerConfigPath))
    }

    /// Builds the tokenizer from the contents of a `tokenizer.json` (and optionally of its
    /// `tokenizer_config.json`); `source` names it in messages.
    public convenience init(tokenizerJSON: Data, tokenizerConfig: Data? = nil, source: String = "tokenizer.json",
                            configSource: String = "tokenizer_config.json") throws {
        try self.init(definition: TokenizerJSONLoader.definition(json: tokenizerJSON, source: source,
                                                                 config: tokenizerConfig, configSource: configSource))
    }

    /// Loads GPT-2's `vocab.json` + `merges.txt` (see `GPT2VocabLoader`). These files do not name
    /// a pre-tokenizer, so it is given here (GPT-2's by default; `.smollm` for SmolLM2's files).
    /// Special tokens and ids come from `tokenizerConfigPath`, or when that is nil from a
    /// `tokenizer_config.json` next to vocab.json if there is one.
    public convenience init(vocabJSONPath: String, mergesPath: String, preTokenizer: PreTokenizer = .gpt2,
                            tokenizerConfigPath: String? = nil) throws {
        try self.init(definition: GPT2VocabLoader.load(vocabPath: vocabJSONPath, mergesPath: mergesPath,
                                                       preTokenizer: preTokenizer, configPath: tokenizerConfigPath))
    }

    // MARK: - Vocabulary

    /// The id of the vocabulary entry spelled exactly `token` (byte-level form for normal tokens).
    public func id(of token: String) -> Int32? { tokenToID[token] }

    /// The id of `<|endoftext|>`, the document separator of GPT-2-family corpora, if present.
    public var endOfTextID: Int32? { tokenToID["<|endoftext|>"] }

    /// The raw bytes token `id` stands for (empty for an id outside the vocabulary).
    public func tokenBytes(_ id: Int32) -> [UInt8] {
        guard id >= 0, Int(id) < tokenByteTable.count else { return [] }
        return tokenByteTable[Int(id)]
    }

    /// The text of one token; bytes that are not complete UTF-8 become U+FFFD.
    public func tokenToPiece(_ id: Int32) -> String {
        String(decoding: tokenBytes(id), as: UTF8.self)
    }

    // MARK: - Encoding and decoding

    /// A reusable encoder with its own pre-token cache (not thread-safe; one per thread).
    public func makeEncoder() -> BPEEncoder { BPEEncoder(tokenizer: self) }

    /// Encodes `text`. With `allowSpecial`, control tokens written in the text (e.g.
    /// `<|im_start|>`) become their single ids; otherwise they are encoded as ordinary text.
    /// `addBOS` overrides the tokenizer's default.
    public func encode(_ text: String, allowSpecial: Bool = true, addBOS: Bool? = nil) -> [Int32] {
        var encoder = makeEncoder()
        return encoder.encode(text, allowSpecial: allowSpecial, addBOS: addBOS)
    }

    /// Encodes many texts in parallel on all cores; results are in input order.
    public func encodeBatch(_ texts: [String], allowSpecial: Bool = true, addBOS: Bool? = nil) -> [[Int32]] {
        var results = [[Int32]](repeating: [], count: texts.count)
        results.withUnsafeMutableBufferPointer { out in
            ParallelWork.run(count: texts.count, makeWorker: { self.makeEncoder() }) { encoder, i in
                out[i] = encoder.encode(texts[i], allowSpecial: allowSpecial, addBOS: addBOS)
            }
        }
        return results
    }

    /// Decodes ids to text. Special tokens appear as their text unless `skipSpecial`. Byte
    /// sequences that are not valid UTF-8 are replaced by U+FFFD, as Python's
    /// `errors="replace"` (and Hugging Face's byte-level decoder) do. Ids outside the vocabulary
    /// decode to U+FFFD.
    public func decode(_ ids: [Int32], skipSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            guard id >= 0, Int(id) < tokenByteTable.count else {
                bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
                continue
            }
            if skipSpecial && tokenTypes[Int(id)] == .control { continue }
            bytes.append(contentsOf: tokenByteTable[Int(id)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
