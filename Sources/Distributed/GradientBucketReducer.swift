import Tensor

/// Averages a flat gradient buffer over the ranks of a communicator bucket by bucket, so that the
/// reduction of late layers runs while backward still computes the early ones.
///
/// It is given the parameters' ranges in the flat buffer in the order backward finishes them and groups
/// them into buckets of about `bucketBytes`. Each step, backward calls `markReady(i)` as parameter `i`'s
/// gradient becomes final; a bucket's non-blocking all-reduce (mean) starts once all its ranges are
/// ready, and `finish()` waits for all buckets, after which the buffer holds the averaged gradients.
///
/// MPI advances reductions in flight only inside MPI calls: `markReady` and `progress()` make such
/// calls, so a backward pass with long gaps between ready parameters may call `progress()` in between.
///
/// Buckets are always started in bucket order (a complete bucket waits for earlier incomplete ones),
/// because every rank must start its non-blocking collectives in the same order; so ranks may mark
/// parameters in different orders. Every rank must use the same ranges and bucket size.
public final class GradientBucketReducer {
    /// The buckets, in the order their reductions start.
    public let buckets: [GradientBucket]

    private let communicator: Communicator
    private let gradients: UnsafeMutableBufferPointer<Float>
    private let owner: AnyObject?
    private let bucketOfParameter: [Int]
    private var staging: [UnsafeMutableBufferPointer<Float>?]
    private var marked: [Bool]
    private var unmarkedInBucket: [Int]
    private var requests: [CommunicationRequest?]
    private var completed: [Bool]
    private var nextBucketToStart = 0

    /// Plans buckets over `gradients` (which must stay alive and in place while the reducer is used).
    /// Throws `invalidArgument` for ranges outside the buffer, overlapping ranges or a non-positive size.
    public convenience init(communicator: Communicator, gradients: UnsafeMutableBufferPointer<Float>,
                parameterRanges: [Range<Int>], bucketBytes: Int = 25 << 20) throws {
        try self.init(communicator: communicator, gradients: gradients, owner: nil,
                      parameterRanges: parameterRanges, bucketBytes: bucketBytes)
    }

    /// Plans buckets over an aligned gradient buffer, which the reducer keeps alive.
    public convenience init(communicator: Communicator, gradients: AlignedBuffer<Float>,
                            parameterRanges: [Range<Int>], bucketBytes: Int = 25 << 20) throws {
        try self.init(communicator: communicator, gradients: gradients.buffer, owner: gradients,
                      parameterRanges: parameterRanges, bucketBytes: bucketBytes)
    }

    private init(communicator: Communicator, gradients: UnsafeMutableBufferPointer<Float>, owner: AnyObject?,
                 parameterRanges: [Range<Int>], bucketBytes: Int) throws {
        let capacity = bucketBytes / MemoryLayout<Float>.stride
        let planned = try GradientBucketPlanner.plan(ranges: parameterRanges, bufferCount: gradients.count, capacityElements: capacity)
        var bucketOf = [Int](repeating: 0, count: parameterRanges.count)
        for (b, bucket) in planned.enumerated() { for p in bucket.parameters { bucketOf[p] = b } }
        self.communicator = communicator
        self.gradients = gradients
        self.owner = owner
        self.buckets = planned
        self.bucketOfParameter = bucketOf
        self.staging = planned.map { $0.contiguousSpan == nil ? .allocate(capacity: $0.elementCount) : nil }
        self.marked = [Bool](repeating: false, count: parameterRanges.count)
        self.unmarkedInBucket = planned.map { $0.parameters.count }
        self.requests = [CommunicationRequest?](repeating: nil, count: planned.count)
        self.completed = [Bool](repeating: false, count: planned.count)
    }

    deinit { for buffer in staging { buffer?.deallocate() } }

    /// The number of buckets whose all-reduce has started this step.
    public var startedBucketCount: Int { nextBucketToStart }

    /// Records that parameter `index`'s gradient is final for this step, starts every bucket that is now
    /// complete (in bucket order) and drives progress of the reductions in flight.
    public func markReady(_ index: Int) throws {
        guard index >= 0, index < marked.count else {
            throw CommunicatorError.invalidArgument("parameter index \(index) is outside 0..<\(marked.count)")
        }
        guard !marked[index] else {
            throw CommunicatorError.invalidArgument("parameter \(index) was marked ready twice in one step")
        }
        marked[index] = true
        unmarkedInBucket[bucketOfParameter[index]] -= 1
        try startCompleteBuckets()
        try progress()
    }

    /// Marks every parameter not yet marked this step (in list order), for steps without overlap.
    public func markAllReady() throws {
        for index in marked.indices where !marked[index] { try markReady(index) }
    }

    /// Lets MPI advance the reductions in flight; returns the number of buckets completed so far.
    @discardableResult
    public func progress() throws -> Int {
        for b in 0..<nextBucketToStart where !completed[b] {
            if let request = requests[b], try request.test() { completed[b] = true }
        }
        return completed.filter { $0 }.count
    }

    /// Waits for every bucket, copies packed buckets back, and resets for the next step. Throws
    /// `invalidArgument` naming the parameters not marked ready (nothing is waited for then), or the
    /// communication error of a failed reduction.
    public func finish() throws {
        let missing = marked.indices.filter { !marked[$0] }
        guard missing.isEmpty else {
            let shown = missing.prefix(8).map(String.init).joined(separator: ", ")
            throw CommunicatorError.invalidArgument("finish() before \(missing.count) parameter(s) were marked ready: \(shown)\(missing.count > 8 ? ", ..." : "")")
        }
        for b in buckets.indices {
            if !completed[b], let request = requests[b] { try request.wait() }
            if let packed = staging[b] { unpack(packed, into: buckets[b]) }
        }
        reset()
    }

    private func startCompleteBuckets() throws {
        while nextBucketToStart < buckets.count && unmarkedInBucket[nextBucketToStart] == 0 {
            let b = nextBucketToStart
            requests[b] = try communicator.startAllReduce(reductionBuffer(b), .mean)
            nextBucketToStart += 1
        }
    }

    /// The buffer reduced for bucket `b`: its span of the gradients, or its staging buffer freshly packed.
    private func reductionBuffer(_ b: Int) -> UnsafeMutableBufferPointer<Float> {
        if let span = buckets[b].contiguousSpan {
            return UnsafeMutableBufferPointer(rebasing: gradients[span])
        }
        let packed = staging[b] ?? UnsafeMutableBufferPointer(start: nil, count: 0)
        var offset = 0
        for range in buckets[b].ranges where !range.isEmpty {
            (packed.baseAddress! + offset).update(from: gradients.baseAddress! + range.lowerBound, count: range.count)
            offset += range.count
        }
        return packed
    }

    private func unpack(_ packed: UnsafeMutableBufferPointer<Float>, into bucket: GradientBucket) {
        var offset = 0
        for range in bucket.ranges where !range.isEmpty {
            (gradients.baseAddress! + range.lowerBound).update(from: packed.baseAddress! + offset, count: range.count)
            offset += range.count
        }
    }

    private func reset() {
        for b in buckets.indices {
            unmarkedInBucket[b] = buckets[b].parameters.count
            requests[b] = nil
            completed[b] = false
        }
        for i in marked.indices { marked[i] = false }
        nextBucketToStart = 0
    }
}
