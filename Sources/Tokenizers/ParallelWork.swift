import Foundation

/// Runs `count` independent jobs on all cores, giving each thread its own worker state (for
/// example a `BPEEncoder` with its private cache). Jobs are handed out in order from a shared
/// counter, so uneven job sizes balance across threads.
public enum ParallelWork {
    /// Number of threads used by default (the active processor count).
    public static var defaultThreadCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public static func run<Worker>(count: Int, threads: Int = defaultThreadCount,
                                   makeWorker: () -> Worker, _ job: (inout Worker, Int) -> Void) {
        guard count > 0 else { return }
        let threadCount = max(1, min(threads, count))
        if threadCount == 1 {
            var w = makeWorker()
            for i in 0..<count { job(&w, i) }
            return
        }
        var workers: [Worker] = (0..<threadCount).map { _ in makeWorker() }
        let lock = NSLock()
        var nextJob = 0
        workers.withUnsafeMutableBufferPointer { ws in
            DispatchQueue.concurrentPerform(iterations: threadCount) { t in
                while true {
                    lock.lock()
                    let i = nextJob
                    nextJob += 1
                    lock.unlock()
                    if i >= count { break }
                    job(&ws[t], i)
                }
            }
        }
    }
}
