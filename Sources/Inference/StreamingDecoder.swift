import Tokenizers

/// Turns a stream of token ids into text pieces, holding back bytes of a UTF-8 character that is
/// split across tokens until it is complete.
public struct StreamingDecoder {
    let tokenizer: BPETokenizer
    var ids: [Int32] = []
    var emitted = 0

    public init(tokenizer: BPETokenizer) { self.tokenizer = tokenizer }

    /// The new text that `id` completes (possibly empty).
    public mutating func push(_ id: Int32) -> String {
        ids.append(id)
        let text = tokenizer.decode(ids)
        if text.hasSuffix("\u{FFFD}") { return "" }
        let piece = String(text.dropFirst(emitted))
        emitted = text.count
        return piece
    }

    /// Whatever is left (including an incomplete character, shown as U+FFFD).
    public mutating func finish() -> String {
        let text = tokenizer.decode(ids)
        let piece = String(text.dropFirst(emitted))
        emitted = text.count
        return piece
    }
}
