/// A group of parameter gradient ranges that the `GradientBucketReducer` averages with one all-reduce.
public struct GradientBucket: Sendable, Equatable {
    /// Indices into the reducer's parameter range list, in the order the ranges were given.
    public let parameters: [Int]
    /// The gradient ranges of those parameters in the flat gradient buffer.
    public let ranges: [Range<Int>]
    /// The number of floats in the bucket.
    public let elementCount: Int
    /// The span of the flat buffer that the ranges tile exactly (reduced in place), or nil when they
    /// leave gaps (packed into a staging buffer, reduced, and copied back).
    public let contiguousSpan: Range<Int>?

    /// Describes the bucket made of `parameters` with `ranges` (same order).
    init(parameters: [Int], ranges: [Range<Int>]) {
        self.parameters = parameters
        self.ranges = ranges
        self.elementCount = ranges.reduce(0) { $0 + $1.count }
        self.contiguousSpan = GradientBucket.tiledSpan(ranges)
    }

    /// The span covered by `ranges` when, sorted, each starts where the previous ends.
    private static func tiledSpan(_ ranges: [Range<Int>]) -> Range<Int>? {
        let sorted = ranges.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        guard let first = sorted.first, let last = sorted.last else { return nil }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.upperBound != b.lowerBound { return nil }
        return first.lowerBound..<last.upperBound
    }
}
