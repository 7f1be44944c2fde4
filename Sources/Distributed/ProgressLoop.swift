import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Polls an in-flight MPI operation until it completes, a watched peer exits, or a timeout passes.
///
/// It spins for the first millisecond (latency of small messages), then yields the core, then sleeps
/// 100 µs between polls so that waiting ranks leave the CPU to computing ones on a shared machine.
/// Local peers are checked for exit every 50 ms once the wait lasts longer than that.
enum ProgressLoop {
    static let spinSeconds = 0.001
    static let yieldSeconds = 0.02
    static let sleepMicroseconds: UInt32 = 100
    static let peerCheckInterval = 0.05

    /// Calls `poll` until it returns true. Throws what `poll` throws, `peerExited` for the first
    /// watched peer found gone (`peers` are (rank in the communicator, process)), or `timedOut`.
    static func run(operation: @autoclosure () -> String, timeout: Double, peers: [(rank: Int, process: PeerProcess)],
                    _ poll: () throws -> Bool) throws {
        let start = monotonicSeconds()
        var nextPeerCheck = start + peerCheckInterval
        while true {
            if try poll() { return }
            let now = monotonicSeconds()
            let elapsed = now - start
            if elapsed > timeout { throw CommunicatorError.timedOut(operation: operation(), seconds: timeout) }
            if now >= nextPeerCheck {
                nextPeerCheck = now + peerCheckInterval
                if let gone = peers.first(where: { $0.process.hasExited }) {
                    throw CommunicatorError.peerExited(operation: operation(), rank: gone.rank, pid: gone.process.pid)
                }
            }
            if elapsed < spinSeconds { continue }
            if elapsed < yieldSeconds { sched_yield() } else { usleep(sleepMicroseconds) }
        }
    }

    /// Seconds from a monotonic clock.
    static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
