import CMPI
import Foundation

/// The process's MPI session: starts MPI once, owns the world communicator, serializes MPI calls and
/// remembers the first failure that left MPI unusable.
///
/// MPI is started with `MPI_THREAD_SERIALIZED` and every MPI call goes through one lock, so any thread
/// may communicate. Errors are returned, not fatal (`MPI_ERRORS_RETURN` on every communicator).
public final class MPIRuntime {
    /// The default timeout of communicators in seconds: `$FINGPT_MPI_TIMEOUT`, else 300.
    public static var defaultTimeout: Double {
        if let text = ProcessInfo.processInfo.environment["FINGPT_MPI_TIMEOUT"], let seconds = Double(text), seconds > 0 {
            return seconds
        }
        return 300
    }

    /// Whether this process was launched by Open MPI's `mpirun` (its environment names a world size).
    public static var isLaunchedByMPIRun: Bool {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
    }

    /// The communicator spanning all processes of the job.
    public private(set) var world: MPICommunicator!
    /// Operating-system identities of the world ranks, for noticing peers that exit.
    let worldPeers: [PeerProcess]

    private static let startLock = NSLock()
    nonisolated(unsafe) private static var shared: MPIRuntime?
    private static let callLock = NSLock()
    private let stateLock = NSLock()
    private var firstFailure: CommunicatorError?
    private var finalized = false

    /// Starts MPI (once per process) and returns the session; later calls return the same session.
    /// Throws `unavailable` when MPI cannot be started or was finalized.
    public static func start() throws -> MPIRuntime {
        startLock.lock(); defer { startLock.unlock() }
        if let runtime = shared {
            if runtime.isFinalized { throw CommunicatorError.unavailable("MPI was already finalized in this process") }
            return runtime
        }
        let runtime = try MPIRuntime()
        shared = runtime
        return runtime
    }

    private init() throws {
        try MPIRuntime.initializeMPI()
        var worldRank: Int32 = 0
        var worldSize: Int32 = 0
        guard let world = fingpt_mpi_comm_world() else { throw CommunicatorError.unavailable("MPI_COMM_WORLD is null") }
        try MPIRuntime.check(MPI_Comm_set_errhandler(world, fingpt_mpi_errors_return()), "MPI_Comm_set_errhandler")
        try MPIRuntime.check(MPI_Comm_rank(world, &worldRank), "MPI_Comm_rank")
        try MPIRuntime.check(MPI_Comm_size(world, &worldSize), "MPI_Comm_size")
        worldPeers = try MPIRuntime.exchangePeers(world, rank: Int(worldRank), size: Int(worldSize))
        self.world = try MPICommunicator(runtime: self, handle: world, ownsHandle: false)
    }

    /// Finalizes MPI after a barrier. Skipped (returning normally) when an earlier failure left MPI
    /// unusable, since finalizing would wait for the missing peers; such a process should exit non-zero
    /// or call `abort`. Communicators must not be used afterwards.
    public func finalize() throws {
        if failure != nil { return }
        if isFinalized { return }
        try world.barrier()
        stateLock.lock(); finalized = true; stateLock.unlock()
        try MPIRuntime.check(MPIRuntime.serialized { MPI_Finalize() }, "MPI_Finalize")
    }

    /// Ends every process of the job with `code` (MPI_Abort on the world communicator).
    public func abort(code: Int32) -> Never {
        _ = MPIRuntime.serialized { MPI_Abort(fingpt_mpi_comm_world(), code) }
        exit(code)
    }

    /// The first failure that left MPI unusable, if any.
    public var failure: CommunicatorError? {
        stateLock.lock(); defer { stateLock.unlock() }
        return firstFailure
    }

    /// Whether `finalize` ran.
    public var isFinalized: Bool {
        stateLock.lock(); defer { stateLock.unlock() }
        return finalized
    }

    /// Throws `communicatorFailed` once an earlier failure poisoned MPI, `unavailable` after finalize.
    func checkUsable() throws {
        stateLock.lock(); defer { stateLock.unlock() }
        if let firstFailure { throw CommunicatorError.communicatorFailed(cause: firstFailure.description) }
        if finalized { throw CommunicatorError.unavailable("MPI was finalized") }
    }

    /// Remembers `error` as the runtime's failure when it leaves MPI unusable, and returns it.
    func record(_ error: CommunicatorError) -> CommunicatorError {
        guard error.poisonsRuntime else { return error }
        stateLock.lock(); defer { stateLock.unlock() }
        if firstFailure == nil { firstFailure = error }
        return error
    }

    /// Runs an MPI call under the process-wide MPI lock.
    static func serialized<T>(_ body: () -> T) -> T {
        callLock.lock(); defer { callLock.unlock() }
        return body()
    }

    /// Runs an MPI call under the MPI lock and throws `CommunicatorError.mpi` when it fails.
    static func call(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws {
        try check(serialized(body), operation())
    }

    /// Converts an MPI return code into a thrown `CommunicatorError.mpi`.
    static func check(_ code: Int32, _ operation: @autoclosure () -> String) throws {
        if code != fingpt_mpi_success() {
            throw CommunicatorError.mpi(operation: operation(), code: code, message: errorText(code))
        }
    }

    /// MPI's description of an error code.
    static func errorText(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: Int(fingpt_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &text, &length) == fingpt_mpi_success() else { return "unknown MPI error" }
        return String(cString: text)
    }

    /// Calls MPI_Init_thread unless MPI is already initialized; requires MPI_THREAD_SERIALIZED.
    ///
    /// Unless the user chose otherwise (`OMPI_MCA_coll_libnbc_iallreduce_algorithm`), selects libnbc's
    /// ring algorithm for non-blocking all-reduce: on this project's machines Open MPI's default choice
    /// for two ranks was 2-4x slower than blocking MPI_Allreduce at 64 KB..64 MB, the ring was not.
    private static func initializeMPI() throws {
        var initialized: Int32 = 0
        var finalized: Int32 = 0
        try check(MPI_Initialized(&initialized), "MPI_Initialized")
        try check(MPI_Finalized(&finalized), "MPI_Finalized")
        if finalized != 0 { throw CommunicatorError.unavailable("MPI was already finalized in this process") }
        if initialized != 0 { return }
        setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", 0)
        var provided: Int32 = 0
        let code = MPI_Init_thread(nil, nil, fingpt_mpi_thread_serialized(), &provided)
        guard code == fingpt_mpi_success() else {
            throw CommunicatorError.unavailable("MPI_Init_thread returned error \(code)")
        }
        guard provided >= fingpt_mpi_thread_serialized() else {
            throw CommunicatorError.unavailable("the MPI library provides thread level \(provided), below MPI_THREAD_SERIALIZED")
        }
    }

    /// All-gathers (pid, host key) of every world rank, bounded by the default timeout.
    private static func exchangePeers(_ world: MPI_Comm, rank: Int, size: Int) throws -> [PeerProcess] {
        let me = PeerProcess.current(worldRank: rank)
        var mine: [Int64] = [Int64(me.pid), Int64(bitPattern: me.hostKey)]
        var all = [Int64](repeating: 0, count: 2 * size)
        var request: MPI_Request? = fingpt_mpi_request_null()
        try check(mine.withUnsafeMutableBufferPointer { send in
            all.withUnsafeMutableBufferPointer { receive in
                MPI_Iallgather(send.baseAddress, 2, fingpt_mpi_int64(), receive.baseAddress, 2, fingpt_mpi_int64(), world, &request)
            }
        }, "MPI_Iallgather of process ids")
        let timeout = defaultTimeout
        try ProgressLoop.run(operation: "exchange of process ids at start-up", timeout: timeout, peers: []) {
            var done: Int32 = 0
            try check(MPI_Test(&request, &done, fingpt_mpi_status_ignore()), "MPI_Test")
            return done != 0
        }
        return (0..<size).map { r in
            PeerProcess(worldRank: r, pid: Int32(truncatingIfNeeded: all[2 * r]), hostKey: UInt64(bitPattern: all[2 * r + 1]))
        }
    }
}
