/// A batch of `batchSize` token windows of `sequenceLength + 1` tokens each.
///
/// Row `b`'s inputs are its first `sequenceLength` tokens and its targets the last
/// `sequenceLength` (the same window shifted by one).
public struct TokenBatch: Equatable, Sendable {
    public let batchSize: Int
    public let sequenceLength: Int
    /// Row-major [batchSize][sequenceLength + 1] tokens.
    public let windows: [Int32]

    public init(batchSize: Int, sequenceLength: Int, windows: [Int32]) {
        precondition(windows.count == batchSize * (sequenceLength + 1), "window buffer size mismatch")
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.windows = windows
    }

    /// Row-major [batchSize][sequenceLength] input tokens.
    public var inputs: [Int32] { shifted(by: 0) }
    /// Row-major [batchSize][sequenceLength] target tokens (inputs shifted left by one).
    public var targets: [Int32] { shifted(by: 1) }

    /// The `sequenceLength + 1` tokens of row `b`.
    public func window(_ b: Int) -> ArraySlice<Int32> {
        let w = sequenceLength + 1
        return windows[(b * w)..<((b + 1) * w)]
    }

    private func shifted(by k: Int) -> [Int32] {
        let t = sequenceLength, w = t + 1
        var out = [Int32]()
        out.reserveCapacity(batchSize * t)
        for b in 0..<batchSize { out += windows[(b * w + k)..<(b * w + k + t)] }
        return out
    }
}
