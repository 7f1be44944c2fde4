/// The kind of a vocabulary entry, as stored in `tokenizer.ggml.token_type` (llama.cpp's
/// `llama_token_type`).
public enum TokenType: Int32, Sendable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    /// Control tokens such as `<|endoftext|>` and `<|im_start|>`: matched in text only when the
    /// caller allows special tokens.
    case control = 3
    /// User-defined tokens: always matched as a whole in text.
    case userDefined = 4
    case unused = 5
    case byte = 6

    /// Whether the token's text is literal (not byte-level encoded) and matched as a unit.
    public var isSpecial: Bool { self == .control || self == .userDefined }
}
