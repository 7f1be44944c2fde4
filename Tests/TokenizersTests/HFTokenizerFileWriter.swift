import Foundation
@testable import Tokenizers

/// Writes Hugging Face tokenizer files for a byte-level BPE vocabulary, in the schema
/// `tokenizers` uses when it saves (`Tokenizer.save` for tokenizer.json, `BPE.save` for
/// vocab.json + merges.txt; see dev/make_hf_tokenizer_files.py), so that tests can load real-size
/// files without committing them. Written independently of the loaders under test.
struct HFTokenizerFileWriter {
    /// Vocabulary entries, index = id.
    let tokens: [String]
    /// Type of each entry; `.control` entries become special added tokens.
    let types: [TokenType]
    /// Merges "left right" in rank order.
    let merges: [String]
    /// The `pre_tokenizer` object.
    let preTokenizer: [String: Any]

    /// SmolLM2's pre-tokenizer as its tokenizer.json declares it.
    static let smolLM2PreTokenizer: [String: Any] = [
        "type": "Sequence",
        "pretokenizers": [
            ["type": "Digits", "individual_digits": true],
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
        ],
    ]

    /// The tokenizer.json object; merges as ["a", "b"] pairs (tokenizers >= 0.20) or "a b" strings.
    func tokenizerJSON(pairMerges: Bool) -> [String: Any] {
        var vocab: [String: Any] = [:]
        vocab.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() { vocab[t] = i }
        let added: [[String: Any]] = tokens.indices.filter { types[$0] == .control }.map { i in
            ["id": i, "content": tokens[i], "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        let mergeList: [Any] = pairMerges
            ? merges.map { m -> [String] in m.split(separator: " ", maxSplits: 1).map(String.init) }
            : merges
        return [
            "version": "1.0",
            "truncation": NSNull(),
            "padding": NSNull(),
            "added_tokens": added,
            "normalizer": NSNull(),
            "pre_tokenizer": preTokenizer,
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": mergeList,
            ] as [String: Any],
        ]
    }

    func writeTokenizerJSON(to url: URL, pairMerges: Bool) throws {
        try JSONSerialization.data(withJSONObject: tokenizerJSON(pairMerges: pairMerges)).write(to: url)
    }

    /// vocab.json: token -> id.
    func writeVocabJSON(to url: URL) throws {
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = i }
        try JSONSerialization.data(withJSONObject: vocab).write(to: url)
    }

    /// merges.txt: a `#version: 0.2` header, then one merge per line.
    func writeMergesText(to url: URL) throws {
        try Data((["#version: 0.2"] + merges).joined(separator: "\n").appending("\n").utf8).write(to: url)
    }

    /// A tokenizer_config.json naming the special tokens (strings or `{"content"}` objects, as
    /// transformers writes either) and listing the control tokens in `added_tokens_decoder`.
    func writeConfig(to url: URL, bos: String, eos: String, pad: String, unk: String) throws {
        var decoder: [String: Any] = [:]
        for i in tokens.indices where types[i] == .control {
            decoder[String(i)] = ["content": tokens[i], "lstrip": false, "normalized": false, "rstrip": false,
                                  "single_word": false, "special": true]
        }
        let config: [String: Any] = [
            "added_tokens_decoder": decoder,
            "bos_token": bos,
            "eos_token": ["__type": "AddedToken", "content": eos, "lstrip": false, "normalized": false,
                          "rstrip": false, "single_word": false],
            "pad_token": pad,
            "unk_token": unk,
            "model_max_length": 8192,
            "tokenizer_class": "GPT2Tokenizer",
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: url)
    }
}
