import Foundation

/// Errors thrown by communicators and the gradient bucket reducer.
///
/// Every failure of a collective or point-to-point operation surfaces as one of these instead of a hang:
/// MPI error codes are returned (not fatal), a peer process on the same host that exits is noticed within
/// a fraction of a second, and any other stall ends after the communicator's timeout.
public enum CommunicatorError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned an error code; `message` is MPI's own text for it.
    case mpi(operation: String, code: Int32, message: String)
    /// The operation did not complete within `seconds` (a peer that is alive but never joined, or a
    /// peer on another host that is gone).
    case timedOut(operation: String, seconds: Double)
    /// A process of this communicator exited while the operation waited for it.
    case peerExited(operation: String, rank: Int, pid: Int32)
    /// A received message had a different number of elements than the receive buffer; `received` is
    /// nil when the message was longer than the buffer (MPI truncates it and does not say by how much).
    case messageSizeMismatch(operation: String, source: Int, tag: Int, expected: Int, received: Int?)
    /// An argument was out of range or inconsistent (rank, tag, color, buffer, range list).
    case invalidArgument(String)
    /// An earlier operation failed in a way that leaves MPI unusable (timeout, dead peer, MPI error);
    /// `cause` describes that first failure.
    case communicatorFailed(cause: String)
    /// MPI could not be started or used (not initialized, already finalized, wrong thread level).
    case unavailable(String)

    public var description: String {
        switch self {
        case let .mpi(operation, code, message):
            return "\(operation) failed with MPI error \(code): \(message)"
        case let .timedOut(operation, seconds):
            return "\(operation) did not complete within \(formatSeconds(seconds)) s (a peer is stalled, unreachable or never joined)"
        case let .peerExited(operation, rank, pid):
            return "\(operation) failed: peer rank \(rank) (pid \(pid)) has exited"
        case let .messageSizeMismatch(operation, source, tag, expected, received):
            let got = received.map { "the message has \($0)" } ?? "the message is longer"
            return "\(operation) (source rank \(source), tag \(tag)): expected \(expected) elements, \(got)"
        case let .invalidArgument(message):
            return "invalid argument: \(message)"
        case let .communicatorFailed(cause):
            return "communicator unusable after an earlier failure: \(cause)"
        case let .unavailable(message):
            return "MPI unavailable: \(message)"
        }
    }

    /// Whether this error leaves MPI in a state where further communication cannot be trusted.
    var poisonsRuntime: Bool {
        switch self {
        case .mpi, .timedOut, .peerExited: return true
        case .messageSizeMismatch, .invalidArgument, .communicatorFailed, .unavailable: return false
        }
    }
}

private func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? String(Int(s)) : String(format: "%.2f", s)
}
