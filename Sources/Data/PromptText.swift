/// A prompt or answer as a sequence of pieces: ordinary text, special tokens written by the
/// template, and the tokenizer's end-of-sequence token.
///
/// Keeping special tokens apart from the text lets the encoder turn the template's own markers
/// (`<|im_start|>`, `<|im_end|>`) into their single ids while text that comes from the data is
/// always encoded as ordinary text, so a row that happens to contain `<|im_end|>` cannot inject a
/// control token.
public struct PromptText: Equatable, Sendable {
    public enum Piece: Equatable, Sendable {
        /// Ordinary text (template wording and example fields), encoded without special tokens.
        case text(String)
        /// A special token written by the template, by its vocabulary text (e.g. `<|im_start|>`).
        case special(String)
        /// The tokenizer's end-of-sequence token.
        case endOfSequence
    }

    public private(set) var pieces: [Piece] = []

    public init(_ pieces: [Piece] = []) {
        for p in pieces { append(p) }
    }

    /// Appends a piece, merging adjacent text (so text between two special tokens is encoded as
    /// one string, exactly as encoding the whole rendered string would split it).
    public mutating func append(_ piece: Piece) {
        if case .text(let s) = piece {
            if s.isEmpty { return }
            if case .text(let previous)? = pieces.last {
                pieces[pieces.count - 1] = .text(previous + s)
                return
            }
        }
        pieces.append(piece)
    }

    /// The text as one string; the end-of-sequence token is written as `endOfSequence`.
    public func rendered(endOfSequence: String = "") -> String {
        var s = ""
        for p in pieces {
            switch p {
            case .text(let t), .special(let t): s += t
            case .endOfSequence: s += endOfSequence
            }
        }
        return s
    }
}
