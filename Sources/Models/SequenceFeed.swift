/// One sequence's share of a `BatchedLanguageModel.forward` call: tokens appended to that
/// sequence's cache, at its own positions.
public struct SequenceFeed: Equatable, Sendable {
    /// Which sequence (cache slot) the tokens continue, in 0 ..< `sequenceCount`.
    public var sequence: Int
    public var tokens: [Int32]
    /// Logits of every token ([tokens.count * V]) instead of only the last one ([V]).
    public var allLogits: Bool

    public init(sequence: Int, tokens: [Int32], allLogits: Bool = false) {
        self.sequence = sequence
        self.tokens = tokens
        self.allLogits = allLogits
    }
}
