import Dispatch

/// A thin, explicit wrapper over `DispatchQueue.concurrentPerform` for kernels that manage their own
/// per-worker partial results (deterministic: worker `w` always gets the same slice).
public enum DispatchQueueConcurrent {
    @inline(__always)
    public static func perform(_ workers: Int, _ body: (Int) -> Void) {
        Parallel.perform(workers, body)
    }
}
