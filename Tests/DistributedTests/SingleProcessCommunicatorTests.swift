import Distributed
import XCTest

final class SingleProcessCommunicatorTests: XCTestCase {
    func testCollectivesAreIdentitiesOnOneRank() throws {
        let comm = SingleProcessCommunicator()
        XCTAssertEqual(comm.rank, 0)
        XCTAssertEqual(comm.size, 1)
        var values: [Float] = [1.5, -2, 3.25]
        try comm.allReduce(&values, .sum)
        XCTAssertEqual(values, [1.5, -2, 3.25])
        try comm.allReduce(&values, .mean)
        XCTAssertEqual(values, [1.5, -2, 3.25])
        try comm.broadcast(&values, root: 0)
        XCTAssertEqual(values, [1.5, -2, 3.25])
        XCTAssertEqual(try comm.broadcast(bytes: [9, 8, 7], root: 0), [9, 8, 7])
        try comm.barrier()
        let sub = try comm.split(color: 3, key: 0)
        XCTAssertEqual(sub.size, 1)
    }

    func testMessagesToSelfArriveInOrderPerTag() throws {
        let comm = SingleProcessCommunicator()
        try comm.send([1, 2], to: 0, tag: 4)
        try comm.send([3], to: 0, tag: 5)
        try comm.send([6, 7], to: 0, tag: 4)
        XCTAssertEqual(try comm.receive(count: 1, from: 0, tag: 5), [3])
        XCTAssertEqual(try comm.receive(count: 2, from: 0, tag: 4), [1, 2])
        XCTAssertEqual(try comm.receive(count: 2, from: 0, tag: 4), [6, 7])
    }

    func testBadArgumentsAndMissingMessagesThrowClearErrors() throws {
        let comm = SingleProcessCommunicator()
        XCTAssertThrowsError(try comm.receive(count: 1, from: 0, tag: 1)) { error in
            XCTAssertTrue("\(error)".contains("no message was sent"), "\(error)")
        }
        try comm.send([1, 2, 3], to: 0, tag: 2)
        XCTAssertThrowsError(try comm.receive(count: 2, from: 0, tag: 2)) { error in
            XCTAssertEqual(error as? CommunicatorError,
                           .messageSizeMismatch(operation: "receive of 2 floats", source: 0, tag: 2, expected: 2, received: 3))
        }
        XCTAssertThrowsError(try comm.send([1], to: 1, tag: 0)) { XCTAssertTrue("\($0)".contains("send destination rank 1 is outside 0..<1"), "\($0)") }
        XCTAssertThrowsError(try comm.send([1], to: 0, tag: 40000)) { XCTAssertTrue("\($0)".contains("tag 40000"), "\($0)") }
        XCTAssertThrowsError(try comm.broadcast(bytes: [], root: 2))
        XCTAssertThrowsError(try comm.split(color: -1, key: 0))
    }

    func testWorldIsSingleProcessWithoutMPIRun() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil, "running under mpirun")
        let world = try Communicators.world()
        XCTAssertTrue(world is SingleProcessCommunicator)
        try Communicators.finalize(world)
    }
}
