import Distributed
import Foundation

/// A rank that dies or stalls mid-step: the others must throw a clear error quickly, not hang.
/// Both scenarios end with rank 0 exiting 1 after printing `EVENT caught`.
enum FailureScenarios {
    static let steps = 6
    static let dyingStep = 3

    /// Ranks all-reduce once per step; at step 3 the last rank kills itself with SIGKILL while the
    /// others wait in the all-reduce.
    static func peerExit(_ comm: Communicator) throws {
        try SelftestFailure.expect(comm.size >= 2, "the failure scenario needs at least 2 ranks")
        var gradient = [Float](repeating: Float(comm.rank), count: 100_000)
        for step in 0..<steps {
            if step == dyingStep && comm.rank == comm.size - 1 {
                usleep(300_000)
                Report.line("EVENT dying rank=\(comm.rank) step=\(step) at=\(Report.number(Report.wallClock()))")
                kill(getpid(), SIGKILL)
            }
            try caught(comm, step: step) { try comm.allReduce(&gradient, .mean) }
        }
        throw SelftestFailure("rank \(comm.rank) finished all steps although a peer died")
    }

    /// The last rank stays alive but does not join the barrier for 4 s; rank 0 uses a 1 s timeout.
    static func stall(_ comm: Communicator) throws {
        try SelftestFailure.expect(comm.size >= 2, "the stall scenario needs at least 2 ranks")
        if let mpi = comm as? MPICommunicator { mpi.timeout = comm.rank == 0 ? 1.0 : 10.0 }
        if comm.rank == comm.size - 1 {
            Report.line("EVENT stalling rank=\(comm.rank) at=\(Report.number(Report.wallClock()))")
            sleep(4)
        }
        try caught(comm, step: 0) { try comm.barrier() }
        throw SelftestFailure("rank \(comm.rank) passed the barrier although a peer stalled")
    }

    /// Runs `body`; on a communicator error prints the EVENT line and rethrows it.
    private static func caught(_ comm: Communicator, step: Int, _ body: () throws -> Void) throws {
        let start = Date()
        do {
            try body()
        } catch let error as CommunicatorError {
            let waited = Date().timeIntervalSince(start)
            Report.line("EVENT caught rank=\(comm.rank) step=\(step) at=\(Report.number(Report.wallClock())) waited=\(Report.number(waited)) error=\(error.description)")
            throw error
        }
    }
}
