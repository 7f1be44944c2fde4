import Foundation

/// One batch of next-token-prediction data: inputs and targets, each [batch * seq], row major.
/// Targets below zero are not scored.
public struct TrainingBatch: Sendable, Equatable {
    public var inputs: [Int32]
    public var targets: [Int32]
    public init(inputs: [Int32], targets: [Int32]) { self.inputs = inputs; self.targets = targets }
}

/// Where a trainer gets its batches. Its state must round-trip through `saveState`/`restoreState`
/// so that a resumed run draws exactly the batches the uninterrupted run would have drawn.
public protocol TokenBatchSource: AnyObject {
    /// The next training batch of `batch` sequences of `seq` tokens.
    func nextTrainingBatch(batch: Int, seq: Int) throws -> TrainingBatch
    /// A fixed, deterministic list of validation batches (the same on every call).
    func validationBatches(batch: Int, seq: Int, maxBatches: Int) throws -> [TrainingBatch]
    func saveState() throws -> Data
    func restoreState(_ data: Data) throws
}
