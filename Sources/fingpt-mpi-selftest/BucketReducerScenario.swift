import Distributed

/// The bucketed gradient reducer against a blocking mean all-reduce of the same data, over three steps
/// (the reducer resets between steps), with buckets that are contiguous and buckets that have gaps,
/// an empty parameter, and ranks that mark parameters ready in different orders.
enum BucketReducerScenario {
    static let parameterCount = 37
    static let bucketBytes = 32 << 10

    static func run(_ comm: Communicator) throws {
        let sizes = (0..<parameterCount).map { $0 == 5 ? 0 : 1 + ($0 * 7919) % 9000 }
        var layout: [Range<Int>] = []
        var offset = 0
        for size in sizes { layout.append(offset..<offset + size); offset += size }
        let gradients = UnsafeMutableBufferPointer<Float>.allocate(capacity: offset)
        defer { gradients.deallocate() }
        let order = backwardOrder()
        let reducer = try GradientBucketReducer(communicator: comm, gradients: gradients,
                                                parameterRanges: order.map { layout[$0] }, bucketBytes: bucketBytes)
        let packed = reducer.buckets.filter { $0.contiguousSpan == nil }.count
        for step in 0..<3 {
            fill(gradients, rank: comm.rank, step: step)
            var reference = Array(gradients)
            try comm.allReduce(&reference, .mean)
            let overlapped = try reduce(with: reducer, rank: comm.rank, sameOrderOnAllRanks: step == 2)
            // Two ranks add each pair once, so both ways agree bit for bit; with more ranks the ring
            // algorithm sums an element in an order that depends on where its chunk starts.
            let tolerance: Float = comm.size <= 2 ? 0 : 1e-5
            let mismatches = (0..<offset).filter { abs(gradients[$0] - reference[$0]) > tolerance }.count
            let divergent = try differencesFromRankZero(gradients, comm)
            let closedFormMismatches = step == 0 ? (0..<offset).filter { !TestPattern.isMean(gradients[$0], size: comm.size, index: $0) }.count : 0
            let checksum = gradients.reduce(0.0) { $0 + Double($1) }
            Report.line("RESULT reducer rank=\(comm.rank) step=\(step) elements=\(offset) buckets=\(reducer.buckets.count) packed=\(packed) done_before_finish=\(overlapped) mismatches=\(mismatches) closed_form_mismatches=\(closedFormMismatches) differs_from_rank0=\(divergent) checksum=\(Report.number(checksum))")
            try SelftestFailure.expect(divergent == 0, "step \(step): \(divergent) reduced gradients differ from rank 0's; replicas would drift apart")
            try SelftestFailure.expect(mismatches == 0 && closedFormMismatches == 0,
                                       "bucketed reduction step \(step): \(mismatches) elements differ from the blocking reduction, \(closedFormMismatches) from the closed form")
        }
        try SelftestFailure.expect(packed > 0 && packed < reducer.buckets.count, "the layout should give both packed and in-place buckets")
        try expectFinishRejectsUnmarked(reducer, rank: comm.rank)
    }

    /// The number of elements of `gradients` that differ (bitwise) from rank 0's copy.
    private static func differencesFromRankZero(_ gradients: UnsafeMutableBufferPointer<Float>, _ comm: Communicator) throws -> Int {
        var rankZero = Array(gradients)
        try comm.broadcast(&rankZero, root: 0)
        return gradients.indices.filter { gradients[$0].bitPattern != rankZero[$0].bitPattern }.count
    }

    /// Parameters 36...20 in reverse (contiguous buckets), then 0,2,..,18 and 1,3,..,19 (buckets with gaps).
    private static func backwardOrder() -> [Int] {
        Array((20..<parameterCount).reversed()) + Array(stride(from: 0, to: 20, by: 2)) + Array(stride(from: 1, to: 20, by: 2))
    }

    private static func fill(_ gradients: UnsafeMutableBufferPointer<Float>, rank: Int, step: Int) {
        for i in gradients.indices {
            gradients[i] = step == 0 ? TestPattern.value(rank: rank, index: i) : TestPattern.irregular(rank: rank, index: i + 1000 * step)
        }
    }

    /// Marks every parameter ready with some "backward" work in between (odd ranks in a scrambled order
    /// unless `sameOrderOnAllRanks`), returns how many buckets completed before `finish()`.
    private static func reduce(with reducer: GradientBucketReducer, rank: Int, sameOrderOnAllRanks: Bool) throws -> Int {
        var marks = Array(0..<parameterCount)
        if rank % 2 == 1 && !sameOrderOnAllRanks {
            for j in stride(from: 0, to: marks.count - 1, by: 2) { marks.swapAt(j, j + 1) }
            marks.reverse()
        }
        var sink: Float = 0
        for index in marks {
            for i in 0..<20_000 { sink += Float(i & 7) }
            try reducer.markReady(index)
        }
        let done = try reducer.progress()
        try reducer.finish()
        if sink < 0 { Report.line("unreachable \(sink)") }
        return done
    }

    private static func expectFinishRejectsUnmarked(_ reducer: GradientBucketReducer, rank: Int) throws {
        do {
            try reducer.finish()
            throw SelftestFailure("finish() with no parameter marked did not throw")
        } catch let error as CommunicatorError {
            guard case .invalidArgument = error else { throw SelftestFailure("unexpected error \(error)") }
            Report.line("RESULT reducer-unmarked rank=\(rank) error=\"\(error.description.prefix(60))\"")
        }
    }
}
