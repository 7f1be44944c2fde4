/// Entry points that pick the communicator for how the process was launched.
public enum Communicators {
    /// The communicator of all processes of this run: Open MPI's world when launched by `mpirun`,
    /// else a `SingleProcessCommunicator`. Throws `unavailable` when MPI fails to start.
    public static func world() throws -> Communicator {
        if MPIRuntime.isLaunchedByMPIRun { return try MPIRuntime.start().world }
        return SingleProcessCommunicator()
    }

    /// Finalizes MPI if this process started it (a no-op for a single process or after a failure;
    /// see `MPIRuntime.finalize`).
    public static func finalize(_ communicator: Communicator) throws {
        if let mpi = communicator as? MPICommunicator { try mpi.runtime.finalize() }
    }
}
