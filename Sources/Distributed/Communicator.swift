/// A group of cooperating processes (ranks 0..<size) that exchange float buffers.
///
/// Collective operations (all-reduce, broadcast, barrier, split) must be called by every rank of the
/// communicator in the same order. Non-blocking collectives are matched by start order, so every rank
/// must start them in the same order too. Failures throw `CommunicatorError`; nothing hangs silently.
public protocol Communicator: AnyObject {
    /// This process's index in the communicator, 0..<size.
    var rank: Int { get }
    /// The number of processes in the communicator.
    var size: Int { get }
    /// The largest message tag accepted by `send`/`receive` (at least 32767).
    var maximumTag: Int { get }

    /// Starts an in-place all-reduce of `buffer` over all ranks and returns at once; the result is in
    /// `buffer` after the request completes. Every rank passes a buffer of the same count.
    func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) throws -> CommunicationRequest

    /// Copies `buffer` of rank `root` into `buffer` on every other rank (same count on every rank).
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws

    /// Returns `bytes` of rank `root` on every rank; the other ranks' `bytes` are ignored and may be empty.
    /// For configurations and checkpoint metadata.
    func broadcast(bytes: [UInt8], root: Int) throws -> [UInt8]

    /// Returns once every rank has called it.
    func barrier() throws

    /// Starts sending `buffer` to rank `destination` with `tag` (0...maximumTag).
    func startSend(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws -> CommunicationRequest

    /// Starts receiving exactly `buffer.count` floats from rank `source` with `tag` into `buffer`.
    /// Completing it throws `messageSizeMismatch` when the message has another length.
    func startReceive(into buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws -> CommunicationRequest

    /// Splits this communicator: ranks passing the same `color` (>= 0) form one new communicator,
    /// ordered by `key` (ties broken by the rank here). Collective over all ranks.
    func split(color: Int, key: Int) throws -> Communicator
}

extension Communicator {
    /// In-place all-reduce of `buffer`, returning when the result is in place.
    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) throws {
        try startAllReduce(buffer, operation).wait()
    }

    /// In-place all-reduce of an array.
    public func allReduce(_ values: inout [Float], _ operation: ReduceOperation) throws {
        try values.withUnsafeMutableBufferPointer { try allReduce($0, operation) }
    }

    /// Broadcasts an array from `root`; every rank's array must already have the root's count.
    public func broadcast(_ values: inout [Float], root: Int) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }

    /// Sends `buffer` to `destination`, returning when the buffer may be reused.
    public func send(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws {
        try startSend(buffer, to: destination, tag: tag).wait()
    }

    /// Sends an array to `destination`.
    public func send(_ values: [Float], to destination: Int, tag: Int) throws {
        try values.withUnsafeBufferPointer { try send($0, to: destination, tag: tag) }
    }

    /// Receives exactly `buffer.count` floats from `source` with `tag`.
    public func receive(into buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws {
        try startReceive(into: buffer, from: source, tag: tag).wait()
    }

    /// Receives exactly `count` floats from `source` with `tag` into a new array.
    public func receive(count: Int, from source: Int, tag: Int) throws -> [Float] {
        guard count >= 0 else { throw CommunicatorError.invalidArgument("receive count \(count) is negative") }
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { try receive(into: $0, from: source, tag: tag) }
        return values
    }
}
