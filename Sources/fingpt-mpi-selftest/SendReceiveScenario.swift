import Distributed

/// Point-to-point between ranks 0 and 1: tag matching out of send order, a large (rendezvous) message,
/// a ping-pong, messages split into several MPI calls, and wrong receive sizes reported as errors.
enum SendReceiveScenario {
    static let largeCount = 300_000
    static let smallCount = 17

    static func run(_ comm: Communicator) throws {
        try SelftestFailure.expect(comm.size >= 2, "send/receive needs at least 2 ranks")
        if comm.rank == 0 { try sender(comm) } else if comm.rank == 1 { try receiver(comm) }
        try comm.barrier()
        Report.line("RESULT sendrecv-done rank=\(comm.rank)")
    }

    private static func sender(_ comm: Communicator) throws {
        let large = (0..<largeCount).map { TestPattern.value(rank: 0, index: $0) }
        let small = (0..<smallCount).map { Float($0) + 0.5 }
        try large.withUnsafeBufferPointer { largeBuffer in
            try small.withUnsafeBufferPointer { smallBuffer in
                let first = try comm.startSend(largeBuffer, to: 1, tag: 5)
                let second = try comm.startSend(smallBuffer, to: 1, tag: 9)
                try second.wait()
                try first.wait()
            }
        }
        let ping = (0..<1000).map { Float($0) }
        try comm.send(ping, to: 1, tag: 6)
        let pong = try comm.receive(count: 1000, from: 1, tag: 7)
        let pongErrors = (0..<1000).filter { pong[$0] != 2 * Float($0) + 1 }.count
        Report.line("RESULT sendrecv-pingpong rank=0 mismatches=\(pongErrors)")
        try SelftestFailure.expect(pongErrors == 0, "ping-pong reply differs in \(pongErrors) elements")
        try comm.send([Float](repeating: 1, count: 10), to: 1, tag: 11)
        try comm.send([Float](repeating: 2, count: 10), to: 1, tag: 12)
        if let mpi = comm as? MPICommunicator { mpi.maximumElementsPerCall = 1000 }
        try comm.send((0..<2500).map { Float($0) }, to: 1, tag: 13)
        if let mpi = comm as? MPICommunicator { mpi.maximumElementsPerCall = Int(Int32.max) }
        try expectInvalid { try comm.send([1], to: comm.size, tag: 1) }
        try expectInvalid { try comm.send([1], to: 1, tag: -1) }
        try expectInvalid { try comm.send([1], to: 1, tag: comm.maximumTag + 1) }
        Report.line("RESULT sendrecv-invalid-arguments rank=0 rejected=3")
    }

    private static func receiver(_ comm: Communicator) throws {
        let small = try comm.receive(count: smallCount, from: 0, tag: 9)
        let large = try comm.receive(count: largeCount, from: 0, tag: 5)
        let largeErrors = (0..<largeCount).filter { large[$0] != TestPattern.value(rank: 0, index: $0) }.count
        let smallErrors = (0..<smallCount).filter { small[$0] != Float($0) + 0.5 }.count
        Report.line("RESULT sendrecv-tags rank=1 large_mismatches=\(largeErrors) small_mismatches=\(smallErrors) large_checksum=\(Report.number(large.reduce(0.0) { $0 + Double($1) }))")
        try SelftestFailure.expect(largeErrors == 0 && smallErrors == 0, "tagged messages differ: \(largeErrors) + \(smallErrors) elements")
        let ping = try comm.receive(count: 1000, from: 0, tag: 6)
        try comm.send(ping.map { 2 * $0 + 1 }, to: 0, tag: 7)
        let short = try expectSizeMismatch { _ = try comm.receive(count: 12, from: 0, tag: 11) }
        let long = try expectSizeMismatch { _ = try comm.receive(count: 8, from: 0, tag: 12) }
        Report.line("RESULT sendrecv-size-check rank=1 shorter=\"\(short)\" longer=\"\(long)\"")
        if let mpi = comm as? MPICommunicator { mpi.maximumElementsPerCall = 1000 }
        let chunked = try comm.receive(count: 2500, from: 0, tag: 13)
        if let mpi = comm as? MPICommunicator { mpi.maximumElementsPerCall = Int(Int32.max) }
        let chunkErrors = (0..<2500).filter { chunked[$0] != Float($0) }.count
        Report.line("RESULT sendrecv-chunked rank=1 mismatches=\(chunkErrors)")
        try SelftestFailure.expect(chunkErrors == 0, "chunked message differs in \(chunkErrors) elements")
    }

    /// Runs `body`, which must throw `messageSizeMismatch`; returns the error's text.
    private static func expectSizeMismatch(_ body: () throws -> Void) throws -> String {
        do { try body() } catch let error as CommunicatorError {
            if case .messageSizeMismatch = error { return error.description }
            throw SelftestFailure("expected a message size error, got: \(error)")
        }
        throw SelftestFailure("a receive of the wrong size did not throw")
    }

    private static func expectInvalid(_ body: () throws -> Void) throws {
        do { try body() } catch let error as CommunicatorError {
            if case .invalidArgument = error { return }
            throw SelftestFailure("expected an invalid-argument error, got: \(error)")
        }
        throw SelftestFailure("an invalid send did not throw")
    }
}
