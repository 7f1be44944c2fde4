import CMPI

/// One started MPI operation, possibly made of several MPI requests (buffers longer than one MPI call
/// can carry are split into chunks), with an action to run once all of them completed.
///
/// Not thread-safe: one thread at a time may test or wait on a request.
final class MPIRequest: CommunicationRequest {
    /// What a receive expected, for size checks and error messages.
    struct ReceiveContext {
        let source: Int
        let tag: Int
        let expected: Int
    }

    private var requests: [MPI_Request?]
    private var statuses: [MPI_Status]
    private let communicator: MPICommunicator
    private let operation: String
    private let watchedPeers: [(rank: Int, process: PeerProcess)]
    private let receive: ReceiveContext?
    private let completion: () -> Void
    private var completed = false
    private var failure: CommunicatorError?

    /// Wraps started requests; `completion` runs once when all have completed (e.g. the 1/size scale of
    /// a mean).
    init(requests: [MPI_Request?], communicator: MPICommunicator, operation: String,
         watchedPeers: [(rank: Int, process: PeerProcess)], receive: ReceiveContext? = nil,
         completion: @escaping () -> Void = {}) {
        self.requests = requests
        self.statuses = [MPI_Status](repeating: MPI_Status(), count: requests.count)
        self.communicator = communicator
        self.operation = operation
        self.watchedPeers = watchedPeers
        self.receive = receive
        self.completion = completion
    }

    func test() throws -> Bool {
        try guarded { try advance() }
    }

    func wait() throws {
        try guarded {
            try ProgressLoop.run(operation: operation, timeout: communicator.timeout, peers: watchedPeers) { try advance() }
            return true
        }
    }

    /// Runs `body`, remembering (and recording with the runtime) the first error so that later calls
    /// rethrow it.
    @discardableResult
    private func guarded(_ body: () throws -> Bool) throws -> Bool {
        if completed { return true }
        if let failure { throw failure }
        do {
            return try body()
        } catch let error as CommunicatorError {
            let recorded = communicator.runtime.record(error)
            failure = recorded
            throw recorded
        }
    }

    /// One MPI_Testall; on completion checks the statuses and runs the completion action.
    private func advance() throws -> Bool {
        if completed { return true }
        var flag: Int32 = 0
        let count = Int32(requests.count)
        let code = MPIRuntime.serialized { MPI_Testall(count, &requests, &flag, &statuses) }
        if code != fingpt_mpi_success() { throw error(for: code, statuses: statuses) }
        guard flag != 0 else { return false }
        if let receive { try checkReceivedCount(statuses, receive) }
        completed = true
        completion()
        return true
    }

    /// The error for a failed MPI_Testall: a truncated receive, else MPI's own error.
    private func error(for code: Int32, statuses: [MPI_Status]) -> CommunicatorError {
        let codes = statuses.map(\.MPI_ERROR).filter { $0 != fingpt_mpi_success() }
        if let receive, codes.contains(fingpt_mpi_err_truncate()) {
            return .messageSizeMismatch(operation: operation, source: receive.source, tag: receive.tag,
                                        expected: receive.expected, received: nil)
        }
        let detail = codes.first(where: { $0 != fingpt_mpi_err_in_status() && $0 != fingpt_mpi_err_pending() }) ?? code
        return .mpi(operation: operation, code: detail, message: MPIRuntime.errorText(detail))
    }

    private func checkReceivedCount(_ statuses: [MPI_Status], _ receive: ReceiveContext) throws {
        var total = 0
        for var status in statuses {
            var elements: Int32 = 0
            try MPIRuntime.check(MPIRuntime.serialized { MPI_Get_count(&status, fingpt_mpi_float(), &elements) }, "MPI_Get_count")
            total += Int(elements)
        }
        guard total == receive.expected else {
            throw CommunicatorError.messageSizeMismatch(operation: operation, source: receive.source, tag: receive.tag,
                                                        expected: receive.expected, received: total)
        }
    }
}
