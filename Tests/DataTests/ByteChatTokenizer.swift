import Tokenizers

/// A byte-level tokenizer without merges for instruction-data tests: token id = UTF-8 byte for
/// ordinary text, so expected ids can be written down independently of the tokenizer; plus control
/// tokens `<|endoftext|>` = 256 (eos), `<|im_start|>` = 257 and `<|im_end|>` = 258.
enum ByteChatTokenizer {
    static let eos: Int32 = 256
    static let imStart: Int32 = 257
    static let imEnd: Int32 = 258

    static func make(addBOS: Bool = false) throws -> BPETokenizer {
        let tokens = ByteLevelEncoding.byteToScalar.map { String($0) } + ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        let types: [TokenType] = Array(repeating: .normal, count: 256) + [.control, .control, .control]
        return try BPETokenizer(tokens: tokens, tokenTypes: types, merges: [], preTokenizer: .gpt2,
                                bosID: addBOS ? imStart : nil, eosID: eos, addBOS: addBOS, source: "byte-chat-tokenizer")
    }

    /// The ids of ordinary text under this tokenizer: its UTF-8 bytes.
    static func ids(_ text: String) -> [Int32] { text.utf8.map { Int32($0) } }
}
