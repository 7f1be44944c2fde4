/// How an all-reduce combines the ranks' buffers element by element.
public enum ReduceOperation: String, Sendable, CaseIterable {
    /// The sum over all ranks.
    case sum
    /// The arithmetic mean over all ranks (the sum scaled by 1/size).
    case mean
}
