import Foundation

/// The communicator of a run without MPI: one rank, collectives are identities, and messages sent to
/// rank 0 wait in a mailbox until rank 0 receives them (first in, first out per tag).
///
/// Lets the same training code run on one process and under `mpirun` without branches.
public final class SingleProcessCommunicator: Communicator {
    public let rank = 0
    public let size = 1
    public let maximumTag = 32767

    private let lock = NSLock()
    private var mailbox: [Int: [[Float]]] = [:]

    public init() {}

    public func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) throws -> CommunicationRequest {
        try ArgumentChecks.buffer(buffer.count, UnsafeRawPointer(buffer.baseAddress), operation: "all-reduce")
        return CompletedRequest()
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        try ArgumentChecks.rank(root, role: "broadcast root", size: size)
    }

    public func broadcast(bytes: [UInt8], root: Int) throws -> [UInt8] {
        try ArgumentChecks.rank(root, role: "broadcast root", size: size)
        return bytes
    }

    public func barrier() throws {}

    /// Copies the buffer into the mailbox, so the request is complete at once.
    public func startSend(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws -> CommunicationRequest {
        try ArgumentChecks.rank(destination, role: "send destination", size: size)
        try ArgumentChecks.tag(tag, maximum: maximumTag)
        lock.lock(); defer { lock.unlock() }
        mailbox[tag, default: []].append(Array(buffer))
        return CompletedRequest()
    }

    /// Takes the oldest message with `tag` from the mailbox; throws when there is none (with one
    /// process nobody else could ever send it).
    public func startReceive(into buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws -> CommunicationRequest {
        try ArgumentChecks.rank(source, role: "receive source", size: size)
        try ArgumentChecks.tag(tag, maximum: maximumTag)
        let message = try takeMessage(tag: tag)
        guard message.count == buffer.count else {
            throw CommunicatorError.messageSizeMismatch(operation: "receive of \(buffer.count) floats", source: source, tag: tag,
                                                        expected: buffer.count, received: message.count)
        }
        _ = buffer.update(fromContentsOf: message)
        return CompletedRequest()
    }

    public func split(color: Int, key: Int) throws -> Communicator {
        try ArgumentChecks.color(color, key: key)
        return SingleProcessCommunicator()
    }

    private func takeMessage(tag: Int) throws -> [Float] {
        lock.lock(); defer { lock.unlock() }
        guard var queue = mailbox[tag], !queue.isEmpty else {
            throw CommunicatorError.invalidArgument("receive with tag \(tag) on a single process: no message was sent to this rank with that tag, so it would wait forever")
        }
        let message = queue.removeFirst()
        mailbox[tag] = queue.isEmpty ? nil : queue
        return message
    }
}
