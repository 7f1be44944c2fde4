import Tensor

extension Communicator {
    /// In-place all-reduce of a tensor's elements.
    public func allReduce(_ tensor: Tensor, _ operation: ReduceOperation) throws {
        try allReduce(tensor.buffer, operation)
    }

    /// Starts an in-place all-reduce of a tensor's elements; the tensor must not be touched until the
    /// request completes.
    public func startAllReduce(_ tensor: Tensor, _ operation: ReduceOperation) throws -> CommunicationRequest {
        try startAllReduce(tensor.buffer, operation)
    }

    /// Copies the root's tensor elements into `tensor` on every rank (same shape everywhere).
    public func broadcast(_ tensor: Tensor, root: Int) throws {
        try broadcast(tensor.buffer, root: root)
    }

    /// Sends a tensor's elements to `destination`.
    public func send(_ tensor: Tensor, to destination: Int, tag: Int) throws {
        try send(UnsafeBufferPointer(tensor.buffer), to: destination, tag: tag)
    }

    /// Receives exactly `tensor.count` elements from `source` into `tensor`.
    public func receive(into tensor: Tensor, from source: Int, tag: Int) throws {
        try receive(into: tensor.buffer, from: source, tag: tag)
    }
}
