import Distributed
import XCTest

/// A communicator whose all-reduce replaces x by 2x + 1 only when waited for, and records the order in
/// which reductions start, so the reducer's packing, start order and waiting can be checked exactly.
private final class RecordingCommunicator: Communicator {
    let rank = 0
    let size = 2
    let maximumTag = 32767
    var started: [Int] = []   // element counts, in start order

    final class Request: CommunicationRequest {
        let buffer: UnsafeMutableBufferPointer<Float>
        var done = false
        init(_ buffer: UnsafeMutableBufferPointer<Float>) { self.buffer = buffer }
        func test() throws -> Bool { done }
        func wait() throws {
            guard !done else { return }
            for i in buffer.indices { buffer[i] = 2 * buffer[i] + 1 }
            done = true
        }
    }

    func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) throws -> CommunicationRequest {
        XCTAssertEqual(operation, .mean)
        started.append(buffer.count)
        return Request(buffer)
    }
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {}
    func broadcast(bytes: [UInt8], root: Int) throws -> [UInt8] { bytes }
    func barrier() throws {}
    func startSend(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws -> CommunicationRequest { CompletedRequest() }
    func startReceive(into buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws -> CommunicationRequest { CompletedRequest() }
    func split(color: Int, key: Int) throws -> Communicator { self }
}

final class GradientBucketReducerTests: XCTestCase {
    func testBucketsCloseOnceTheyReachTheCapacity() throws {
        let comm = RecordingCommunicator()
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 20_000)
        defer { buffer.deallocate() }
        let disjoint: [Range<Int>] = [0..<3000, 3000..<8000, 8000..<8100, 8100..<17_100, 17_100..<17_100, 17_100..<17_300]
        let reducer = try GradientBucketReducer(communicator: comm, gradients: buffer, parameterRanges: disjoint, bucketBytes: 4096 * 4)
        XCTAssertEqual(reducer.buckets.map(\.parameters), [[0, 1], [2, 3], [4, 5]])
        XCTAssertEqual(reducer.buckets.map(\.elementCount), [8000, 9100, 200])
        XCTAssertEqual(reducer.buckets.map(\.contiguousSpan), [0..<8000, 8000..<17_100, 17_100..<17_300])
    }

    func testPackedAndInPlaceBucketsAreReducedOnceAndWrittenBack() throws {
        let comm = RecordingCommunicator()
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 20_000)
        defer { buffer.deallocate() }
        // Backward order: 15_000..<19_000 then 5_000..<10_000 (bucket 0, with a gap -> packed), then
        // 10_000..<15_000 and 0..<5_000 (bucket 1, with a gap -> packed); 19_000..<20_000 is no parameter.
        let order: [Range<Int>] = [15_000..<19_000, 5_000..<10_000, 10_000..<15_000, 0..<5_000]
        let reducer = try GradientBucketReducer(communicator: comm, gradients: buffer, parameterRanges: order, bucketBytes: 8000 * 4)
        XCTAssertEqual(reducer.buckets.map(\.parameters), [[0, 1], [2, 3]])
        XCTAssertNil(reducer.buckets[0].contiguousSpan)
        XCTAssertNil(reducer.buckets[1].contiguousSpan)
        for step in 0..<2 {
            for i in buffer.indices { buffer[i] = Float(i % 1000) + Float(step) }
            // Mark the second bucket first: nothing may start until bucket 0 is complete.
            try reducer.markReady(3)
            try reducer.markReady(2)
            XCTAssertEqual(reducer.startedBucketCount, 0)
            try reducer.markReady(1)
            XCTAssertEqual(reducer.startedBucketCount, 0)
            try reducer.markReady(0)
            XCTAssertEqual(reducer.startedBucketCount, 2, "bucket 0 completes, then bucket 1 (already complete) follows")
            try reducer.finish()
            for i in buffer.indices {
                let original = Float(i % 1000) + Float(step)
                let expected = i >= 19_000 ? original : 2 * original + 1
                if buffer[i] != expected { XCTFail("step \(step) element \(i): \(buffer[i]) != \(expected)"); break }
            }
        }
        XCTAssertEqual(comm.started, [9000, 10_000, 9000, 10_000])
    }

    func testContiguousBucketIsReducedInPlace() throws {
        let comm = RecordingCommunicator()
        let gradients = [Float](repeating: 3, count: 100)
        var copy = gradients
        try copy.withUnsafeMutableBufferPointer { buffer in
            let reducer = try GradientBucketReducer(communicator: comm, gradients: buffer,
                                                    parameterRanges: [60..<100, 20..<60, 0..<20], bucketBytes: 1 << 20)
            XCTAssertEqual(reducer.buckets.first?.contiguousSpan, 0..<100)
            try reducer.markAllReady()
            try reducer.finish()
        }
        XCTAssertEqual(copy, [Float](repeating: 7, count: 100))
    }

    func testInvalidRangesAndMarksAreRejected() throws {
        let comm = RecordingCommunicator()
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 100)
        defer { buffer.deallocate() }
        XCTAssertThrowsError(try GradientBucketReducer(communicator: comm, gradients: buffer, parameterRanges: [0..<50, 40..<60])) {
            XCTAssertTrue("\($0)".contains("parameters 0 and 1"), "\($0)")
        }
        XCTAssertThrowsError(try GradientBucketReducer(communicator: comm, gradients: buffer, parameterRanges: [90..<101])) {
            XCTAssertTrue("\($0)".contains("outside the buffer of 100 floats"), "\($0)")
        }
        XCTAssertThrowsError(try GradientBucketReducer(communicator: comm, gradients: buffer, parameterRanges: [0..<10], bucketBytes: 0))
        let reducer = try GradientBucketReducer(communicator: comm, gradients: buffer, parameterRanges: [0..<10, 10..<20])
        XCTAssertThrowsError(try reducer.markReady(2))
        try reducer.markReady(1)
        XCTAssertThrowsError(try reducer.markReady(1)) { XCTAssertTrue("\($0)".contains("twice"), "\($0)") }
        XCTAssertThrowsError(try reducer.finish()) { XCTAssertTrue("\($0)".contains("1 parameter(s) were marked ready: 0"), "\($0)") }
        try reducer.markReady(0)
        try reducer.finish()
    }

    func testReducerOnOneProcessLeavesGradientsUnchanged() throws {
        let gradients = (0..<1000).map { Float($0) * 0.37 - 11 }
        var reduced = gradients
        try reduced.withUnsafeMutableBufferPointer { buffer in
            let reducer = try GradientBucketReducer(communicator: SingleProcessCommunicator(), gradients: buffer,
                                                    parameterRanges: [500..<1000, 0..<250, 250..<500], bucketBytes: 256 * 4)
            try reducer.markAllReady()
            try reducer.finish()
        }
        XCTAssertEqual(reduced, gradients)
    }
}
