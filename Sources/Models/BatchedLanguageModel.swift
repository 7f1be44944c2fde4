/// Several sequences run through one model, each with its own key/value cache: one `forward` call
/// takes tokens of several sequences, so each weight matrix is read once for all of them (the
/// gain of batching: one-token generation is bound by reading the weights). Evaluation of many
/// examples (generation and scoring) works through this protocol.
public protocol BatchedLanguageModel: AnyObject {
    var vocabularySize: Int { get }
    /// Most positions one sequence can hold.
    var maxContext: Int { get }
    /// Number of sequences (cache slots).
    var sequenceCount: Int { get }
    /// Positions cached for `sequence`.
    func position(of sequence: Int) -> Int
    /// Appends each feed's tokens to its sequence (feeds name distinct sequences) and returns, per
    /// feed in order, the logits of its last token ([V]) or of all its tokens ([n * V]).
    func forward(_ feeds: [SequenceFeed]) throws -> [[Float]]
    /// Keeps the first `count` cached positions of `sequence` (0 empties it).
    func truncate(sequence: Int, to count: Int) throws
    /// Makes `destination` hold the first `count` cached positions of `source` (a copy, e.g. of a
    /// shared prompt prefix computed once); `destination` then continues after them.
    func copyCache(from source: Int, to destination: Int, count: Int) throws
}
