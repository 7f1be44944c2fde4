import CMPI

/// A communicator over Open MPI: the world of an `mpirun` job (`MPIRuntime.start().world`) or a part of
/// it made by `split`.
///
/// Every operation is issued non-blocking and completed by polling, so none can hang: MPI errors are
/// thrown as `CommunicatorError.mpi`, a peer process on this machine that exits is reported within about
/// 50 ms as `peerExited`, and anything else that stalls throws `timedOut` after `timeout` seconds.
/// After such a failure MPI is unusable and every later call throws `communicatorFailed`.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public let maximumTag: Int
    /// Seconds a blocking call or `wait()` may take before it throws `timedOut`
    /// (defaults to `MPIRuntime.defaultTimeout`). Must exceed the longest time one rank may spend
    /// computing (or writing a checkpoint) while another waits for it.
    public var timeout: Double
    /// The most elements passed to one MPI call; longer buffers are split into several calls.
    /// Defaults to Int32.max, the MPI count limit.
    public var maximumElementsPerCall = Int(Int32.max) {
        didSet { maximumElementsPerCall = max(1, min(maximumElementsPerCall, Int(Int32.max))) }
    }

    let runtime: MPIRuntime
    let handle: MPI_Comm
    /// The process behind each rank of this communicator.
    let members: [PeerProcess]
    private let ownsHandle: Bool

    /// Wraps `handle`, installing the error-returning handler and reading rank, size and members.
    init(runtime: MPIRuntime, handle: MPI_Comm, ownsHandle: Bool) throws {
        try MPIRuntime.call("MPI_Comm_set_errhandler") { MPI_Comm_set_errhandler(handle, fingpt_mpi_errors_return()) }
        var rank: Int32 = 0
        var size: Int32 = 0
        try MPIRuntime.call("MPI_Comm_rank") { MPI_Comm_rank(handle, &rank) }
        try MPIRuntime.call("MPI_Comm_size") { MPI_Comm_size(handle, &size) }
        self.runtime = runtime
        self.handle = handle
        self.ownsHandle = ownsHandle
        self.rank = Int(rank)
        self.size = Int(size)
        self.timeout = MPIRuntime.defaultTimeout
        let bound = MPIRuntime.serialized { fingpt_mpi_tag_upper_bound(handle) }
        self.maximumTag = bound > 0 ? Int(bound) : 32767
        self.members = try MPICommunicator.worldRanks(of: handle, size: Int(size)).map { runtime.worldPeers[$0] }
    }

    deinit {
        guard ownsHandle, runtime.failure == nil, !runtime.isFinalized else { return }
        var comm: MPI_Comm? = handle
        _ = MPIRuntime.serialized { MPI_Comm_free(&comm) }
    }

    public func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) throws -> CommunicationRequest {
        try ArgumentChecks.buffer(buffer.count, UnsafeRawPointer(buffer.baseAddress), operation: "all-reduce")
        let base = buffer.baseAddress
        let scale = 1 / Float(size)
        let finish: () -> Void = operation == .mean && size > 1 ? { FloatScaling.scale(buffer, by: scale) } : {}
        return try start("all-reduce (\(operation.rawValue)) of \(buffer.count) floats", count: buffer.count, peers: allPeers, completion: finish) {
            offset, count, request in
            MPI_Iallreduce(fingpt_mpi_in_place(), base.map { $0 + offset }, count, fingpt_mpi_float(), fingpt_mpi_sum(), self.handle, &request)
        }
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        try ArgumentChecks.rank(root, role: "broadcast root", size: size)
        try ArgumentChecks.buffer(buffer.count, UnsafeRawPointer(buffer.baseAddress), operation: "broadcast")
        let base = buffer.baseAddress
        try start("broadcast of \(buffer.count) floats from rank \(root)", count: buffer.count, peers: allPeers) { offset, count, request in
            MPI_Ibcast(base.map { $0 + offset }, count, fingpt_mpi_float(), Int32(root), self.handle, &request)
        }.wait()
    }

    public func broadcast(bytes: [UInt8], root: Int) throws -> [UInt8] {
        try ArgumentChecks.rank(root, role: "broadcast root", size: size)
        var length = [Int64(rank == root ? bytes.count : 0)]
        try length.withUnsafeMutableBufferPointer { lengthBuffer in
            let base = lengthBuffer.baseAddress
            try start("broadcast of a byte length from rank \(root)", count: 1, peers: allPeers) { _, _, request in
                MPI_Ibcast(base, 1, fingpt_mpi_int64(), Int32(root), self.handle, &request)
            }.wait()
        }
        guard length[0] >= 0, length[0] <= Int64(Int.max) else {
            throw CommunicatorError.invalidArgument("broadcast from rank \(root) announced \(length[0]) bytes")
        }
        var blob = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length[0]))
        try blob.withUnsafeMutableBufferPointer { blobBuffer in
            let base = blobBuffer.baseAddress
            try start("broadcast of \(blobBuffer.count) bytes from rank \(root)", count: blobBuffer.count, peers: allPeers) {
                offset, count, request in
                MPI_Ibcast(base.map { $0 + offset }, count, fingpt_mpi_byte(), Int32(root), self.handle, &request)
            }.wait()
        }
        return blob
    }

    public func barrier() throws {
        try start("barrier", count: 0, peers: allPeers) { _, _, request in
            MPI_Ibarrier(self.handle, &request)
        }.wait()
    }

    public func startSend(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws -> CommunicationRequest {
        try ArgumentChecks.rank(destination, role: "send destination", size: size)
        try ArgumentChecks.tag(tag, maximum: maximumTag)
        try ArgumentChecks.buffer(buffer.count, UnsafeRawPointer(buffer.baseAddress), operation: "send")
        let base = buffer.baseAddress
        return try start("send of \(buffer.count) floats to rank \(destination) with tag \(tag)", count: buffer.count,
                         peers: [(destination, members[destination])]) { offset, count, request in
            MPI_Isend(base.map { $0 + offset }, count, fingpt_mpi_float(), Int32(destination), Int32(tag), self.handle, &request)
        }
    }

    public func startReceive(into buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws -> CommunicationRequest {
        try ArgumentChecks.rank(source, role: "receive source", size: size)
        try ArgumentChecks.tag(tag, maximum: maximumTag)
        try ArgumentChecks.buffer(buffer.count, UnsafeRawPointer(buffer.baseAddress), operation: "receive")
        let base = buffer.baseAddress
        let context = MPIRequest.ReceiveContext(source: source, tag: tag, expected: buffer.count)
        return try start("receive of \(buffer.count) floats", count: buffer.count,
                         peers: [(source, members[source])], receive: context) { offset, count, request in
            MPI_Irecv(base.map { $0 + offset }, count, fingpt_mpi_float(), Int32(source), Int32(tag), self.handle, &request)
        }
    }

    /// Splits after a barrier with timeout, so that a peer missing at that point throws instead of
    /// hanging in MPI_Comm_split (which has no non-blocking form). The new communicator inherits
    /// `timeout` and `maximumElementsPerCall`.
    public func split(color: Int, key: Int) throws -> Communicator {
        try ArgumentChecks.color(color, key: key)
        try barrier()
        var newHandle: MPI_Comm? = fingpt_mpi_comm_null()
        let code = MPIRuntime.serialized { MPI_Comm_split(handle, Int32(color), Int32(key), &newHandle) }
        if code != fingpt_mpi_success() {
            throw runtime.record(.mpi(operation: "MPI_Comm_split", code: code, message: MPIRuntime.errorText(code)))
        }
        guard let newHandle, newHandle != fingpt_mpi_comm_null() else {
            throw CommunicatorError.unavailable("MPI_Comm_split returned no communicator for color \(color)")
        }
        let part = try MPICommunicator(runtime: runtime, handle: newHandle, ownsHandle: true)
        part.timeout = timeout
        part.maximumElementsPerCall = maximumElementsPerCall
        return part
    }

    /// Every other rank, watched while a collective waits.
    private var allPeers: [(rank: Int, process: PeerProcess)] {
        members.enumerated().filter { $0.offset != rank }.map { ($0.offset, $0.element) }
    }

    /// Starts one MPI call per chunk of at most `maximumElementsPerCall` elements (one call for an
    /// empty buffer) and wraps the requests. `startChunk(offset, count, &request)` returns MPI's code.
    private func start(_ operation: String, count: Int, peers: [(rank: Int, process: PeerProcess)],
                       receive: MPIRequest.ReceiveContext? = nil, completion: @escaping () -> Void = {},
                       _ startChunk: (Int, Int32, inout MPI_Request?) -> Int32) throws -> MPIRequest {
        try runtime.checkUsable()
        var requests: [MPI_Request?] = []
        for (offset, chunk) in MPICommunicator.chunks(count, limit: maximumElementsPerCall) {
            var request: MPI_Request? = fingpt_mpi_request_null()
            let code = MPIRuntime.serialized { startChunk(offset, chunk, &request) }
            if code != fingpt_mpi_success() {
                throw runtime.record(.mpi(operation: operation, code: code, message: MPIRuntime.errorText(code)))
            }
            requests.append(request)
        }
        return MPIRequest(requests: requests, communicator: self, operation: operation, watchedPeers: peers,
                          receive: receive, completion: completion)
    }

    /// (offset, count) pieces covering 0..<count, each at most `limit` long; one empty piece for 0.
    static func chunks(_ count: Int, limit: Int) -> [(Int, Int32)] {
        if count == 0 { return [(0, 0)] }
        return stride(from: 0, to: count, by: limit).map { ($0, Int32(min(limit, count - $0))) }
    }

    /// The MPI_COMM_WORLD rank of each rank of `comm`.
    private static func worldRanks(of comm: MPI_Comm, size: Int) throws -> [Int] {
        var group: MPI_Group? = nil
        var worldGroup: MPI_Group? = nil
        try MPIRuntime.call("MPI_Comm_group") { MPI_Comm_group(comm, &group) }
        try MPIRuntime.call("MPI_Comm_group") { MPI_Comm_group(fingpt_mpi_comm_world(), &worldGroup) }
        defer { MPIRuntime.serialized { _ = MPI_Group_free(&group); _ = MPI_Group_free(&worldGroup) } }
        var local = (0..<Int32(size)).map { $0 }
        var world = [Int32](repeating: 0, count: size)
        try MPIRuntime.call("MPI_Group_translate_ranks") { MPI_Group_translate_ranks(group, Int32(size), &local, worldGroup, &world) }
        return world.map(Int.init)
    }
}
