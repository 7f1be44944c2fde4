/// Groups parameter gradient ranges, in the order backward finishes them, into buckets of about a
/// given size, after checking that the ranges fit the buffer and do not overlap.
enum GradientBucketPlanner {
    /// Buckets of consecutive ranges (in the given order); a bucket is closed once it holds at least
    /// `capacityElements` floats, so a range larger than that forms a bucket of its own.
    static func plan(ranges: [Range<Int>], bufferCount: Int, capacityElements: Int) throws -> [GradientBucket] {
        guard capacityElements > 0 else {
            throw CommunicatorError.invalidArgument("gradient bucket capacity must be positive, got \(capacityElements) floats")
        }
        try validate(ranges, bufferCount: bufferCount)
        var buckets: [GradientBucket] = []
        var parameters: [Int] = []
        var members: [Range<Int>] = []
        var filled = 0
        for (index, range) in ranges.enumerated() {
            parameters.append(index)
            members.append(range)
            filled += range.count
            if filled >= capacityElements {
                buckets.append(GradientBucket(parameters: parameters, ranges: members))
                parameters = []; members = []; filled = 0
            }
        }
        if !parameters.isEmpty { buckets.append(GradientBucket(parameters: parameters, ranges: members)) }
        return buckets
    }

    /// Throws unless every range lies in 0..<bufferCount and no two non-empty ranges overlap
    /// (an overlapping element would be averaged twice).
    static func validate(_ ranges: [Range<Int>], bufferCount: Int) throws {
        for (index, range) in ranges.enumerated() where range.lowerBound < 0 || range.upperBound > bufferCount {
            throw CommunicatorError.invalidArgument("parameter \(index): gradient range \(range) lies outside the buffer of \(bufferCount) floats")
        }
        let sorted = ranges.enumerated().filter { !$0.element.isEmpty }.sorted { $0.element.lowerBound < $1.element.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.element.upperBound > b.element.lowerBound {
            throw CommunicatorError.invalidArgument("parameters \(a.offset) and \(b.offset): gradient ranges \(a.element) and \(b.element) overlap")
        }
    }
}
