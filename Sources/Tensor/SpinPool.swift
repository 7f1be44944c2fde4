import Dispatch
import Foundation
import Synchronization

/// A small pool of persistent worker threads for fine-grained parallel loops (a quantized
/// matrix-vector product takes tens of microseconds; `DispatchQueue.concurrentPerform` costs 10-20 us
/// per call). Workers spin briefly between jobs and then park on a semaphore, so they do not compete
/// with OpenBLAS's own threads during long products. A call made while the pool is busy (a nested
/// parallel loop) runs serially on the calling thread.
final class SpinPool: @unchecked Sendable {
    let workers: Int
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let semaphores: [DispatchSemaphore]
    /// Written by the caller before publishing a generation (release), read by workers after (acquire).
    private var job: ((Int) -> Void)?
    /// How long an idle worker spins before it parks.
    static let spinNanoseconds: UInt64 = 50_000

    init(workers: Int) {
        self.workers = workers
        semaphores = (0..<workers).map { _ in DispatchSemaphore(value: 0) }
        for w in 0..<workers {
            let t = Thread { [unowned self] in self.workerLoop(w) }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    private func workerLoop(_ w: Int) {
        var seen = 0
        while true {
            var spins = 0
            var start = DispatchTime.now().uptimeNanoseconds
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 1023 == 0, DispatchTime.now().uptimeNanoseconds - start > SpinPool.spinNanoseconds {
                    sleepers.bitwiseOr(1 << w, ordering: .sequentiallyConsistent)
                    if generation.load(ordering: .sequentiallyConsistent) == seen { semaphores[w].wait() }
                    sleepers.bitwiseAnd(~(1 << w), ordering: .sequentiallyConsistent)
                    start = DispatchTime.now().uptimeNanoseconds
                }
            }
            seen = generation.load(ordering: .acquiring)
            job!(w + 1)
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// Runs `body(i)` for i in 0..<(workers + 1): index 0 on the calling thread, the others on the
    /// workers; returns when all are done. Returns false (running nothing) when the pool is busy.
    func run(_ body: @escaping (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        job = body
        remaining.store(workers, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        let parked = sleepers.load(ordering: .sequentiallyConsistent)
        if parked != 0 { for w in 0..<workers where parked & (1 << w) != 0 { semaphores[w].signal() } }
        body(0)
        while remaining.load(ordering: .acquiring) > 0 {}
        job = nil
        busy.store(false, ordering: .releasing)
        return true
    }
}
