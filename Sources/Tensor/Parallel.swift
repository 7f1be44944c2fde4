import Dispatch
import Foundation

/// Work splitting over the machine's cores.
public enum Parallel {
    /// Number of worker threads used by `forEachChunk` (defaults to the active processor count;
    /// `FINGPT_THREADS` overrides it).
    public static let threadCount: Int = {
        if let s = ProcessInfo.processInfo.environment["FINGPT_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Persistent workers for the parallel loops below (nil on one core or with FINGPT_SPIN_POOL=0).
    static let pool: SpinPool? = {
        if ProcessInfo.processInfo.environment["FINGPT_SPIN_POOL"] == "0" { return nil }
        return threadCount > 1 ? SpinPool(workers: threadCount - 1) : nil
    }()

    /// Runs `body(w)` for w in 0..<workers in parallel (worker w always gets index w).
    @inline(__always)
    static func perform(_ workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 { body(0); return }
        if workers == threadCount, let pool {
            let ran = withoutActuallyEscaping(body) { escaping in pool.run(escaping) }
            if ran { return }
            for w in 0..<workers { body(w) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers, execute: body)
    }

    /// Runs `body(range)` over `0..<count` split into contiguous ranges, one per worker, in parallel.
    /// Falls back to a plain call when the work is smaller than `minPerThread` per worker.
    @inline(__always)
    public static func forEachChunk(_ count: Int, minPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = min(threadCount, max(1, count / max(1, minPerThread)))
        if workers <= 1 || count <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        let per = (count + workers - 1) / workers
        perform(workers) { w in
            let lo = w * per
            let hi = min(count, lo + per)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(i)` for each i in `0..<count`, distributing indices over workers.
    @inline(__always)
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forEachChunk(count) { r in for i in r { body(i) } }
    }
}
