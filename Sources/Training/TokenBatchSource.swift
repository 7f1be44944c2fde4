import Foundation

/// One batch of next-token-prediction data: inputs and targets, each [batch * seq], row major.
/// Targets below zero are not scored. Sources of fixed-shape windows leave the shape to the caller;
/// sources of variable-length examples (instruction data) give each batch its own shape.
public struct TrainingBatch: Sendable, Equatable {
    public var inputs: [Int32]
    public var targets: [Int32]
    /// The batch's own shape, when it differs from the requested one.
    public var shape: (batch: Int, seq: Int)?
    public init(inputs: [Int32], targets: [Int32], shape: (batch: Int, seq: Int)? = nil) {
        self.inputs = inputs; self.targets = targets; self.shape = shape
    }

    /// Positions with a target (the loss counts these).
    public var scoredPositions: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    public static func == (l: TrainingBatch, r: TrainingBatch) -> Bool {
        l.inputs == r.inputs && l.targets == r.targets && l.shape?.batch == r.shape?.batch && l.shape?.seq == r.shape?.seq
    }
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
