/// An operation that was started and may still be in flight (a non-blocking all-reduce, send or receive).
///
/// The buffers handed to the start call must stay alive and untouched until `wait()` returns or `test()`
/// returns true. MPI makes progress on in-flight operations only while some MPI call runs, so code that
/// overlaps communication with computation should call `test()` now and then.
public protocol CommunicationRequest: AnyObject {
    /// Drives progress and reports whether the operation has completed; throws when it failed.
    /// After completion the result (for a mean, already scaled) is in the buffer.
    func test() throws -> Bool
    /// Blocks until the operation completes, throwing on failure, on a peer that exits, or after the
    /// communicator's timeout.
    func wait() throws
}

/// A request that completed when it was created (used by the single-process communicator).
public final class CompletedRequest: CommunicationRequest {
    public init() {}
    public func test() throws -> Bool { true }
    public func wait() throws {}
}
