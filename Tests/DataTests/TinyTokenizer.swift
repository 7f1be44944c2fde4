import Tokenizers

/// A small byte-level BPE for data tests: 256 byte tokens (id = byte), `<|endoftext|>` = 256, and a
/// few merges.
enum TinyTokenizer {
    static func make() throws -> BPETokenizer {
        let tokens = ByteLevelEncoding.byteToScalar.map { String($0) } + ["<|endoftext|>", "th", "the", "Ġthe", "in", "Ġin"]
        let types: [TokenType] = Array(repeating: .normal, count: 256) + [.control] + Array(repeating: .normal, count: 5)
        return try BPETokenizer(tokens: tokens, tokenTypes: types, merges: ["t h", "th e", "Ġ the", "i n", "Ġ in"],
                                preTokenizer: .gpt2, eosID: 256, source: "tiny-tokenizer")
    }
}
