/// The BPE merge loop for one pre-token: start from one token per byte, then repeatedly merge the
/// adjacent pair with the lowest rank (leftmost on ties) until no pair has a merge rule.
enum BPEMerger {
    /// Words up to this many bytes use the simple quadratic scan; longer ones use a heap.
    static let heapThreshold = 48

    static func merge(_ word: UnsafeBufferPointer<UInt8>, tokenizer: BPETokenizer) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(word.count)
        for b in word {
            let id = tokenizer.byteTokenIDs[Int(b)]
            // A byte without a token of its own is dropped, as Hugging Face and llama.cpp do.
            if id >= 0 { ids.append(id) }
        }
        return word.count <= heapThreshold ? mergeByScan(ids, merges: tokenizer.merges)
                                           : mergeByHeap(ids, merges: tokenizer.merges)
    }

    @inline(__always)
    static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    /// O(n^2) reference algorithm, fastest for short words.
    static func mergeByScan(_ start: [Int32], merges: [UInt64: UInt64]) -> [Int32] {
        var ids = start
        while ids.count >= 2 {
            var best = UInt64.max
            var bestIndex = -1
            for i in 0..<(ids.count - 1) {
                if let m = merges[pairKey(ids[i], ids[i + 1])], m < best {
                    best = m
                    bestIndex = i
                }
            }
            if bestIndex < 0 { break }
            ids[bestIndex] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            ids.remove(at: bestIndex + 1)
        }
        return ids
    }

    /// O(n log n) version for long words: a linked list of symbols and a min-heap of candidate
    /// merges ordered by (rank, position); stale heap entries are skipped when popped.
    static func mergeByHeap(_ start: [Int32], merges: [UInt64: UInt64]) -> [Int32] {
        let n = start.count
        guard n >= 2 else { return start }
        var ids = start
        var prev = (0..<n).map { $0 - 1 }
        var next = (0..<n).map { $0 + 1 == n ? -1 : $0 + 1 }
        var alive = [Bool](repeating: true, count: n)
        // Heap entries: (rank << 32 | position, left id, right id).
        var heap = MinHeap()
        for i in 0..<(n - 1) {
            if let m = merges[pairKey(ids[i], ids[i + 1])] {
                heap.push(key: (m >> 32) << 32 | UInt64(i), left: ids[i], right: ids[i + 1])
            }
        }
        while let top = heap.pop() {
            let pos = Int(top.key & 0xFFFF_FFFF)
            guard alive[pos], ids[pos] == top.left else { continue }
            let r = next[pos]
            guard r >= 0, ids[r] == top.right else { continue }
            guard let m = merges[pairKey(top.left, top.right)] else { continue }
            ids[pos] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            alive[r] = false
            next[pos] = next[r]
            if next[r] >= 0 { prev[next[r]] = pos }
            if prev[pos] >= 0, let pm = merges[pairKey(ids[prev[pos]], ids[pos])] {
                heap.push(key: (pm >> 32) << 32 | UInt64(prev[pos]), left: ids[prev[pos]], right: ids[pos])
            }
            if next[pos] >= 0, let nm = merges[pairKey(ids[pos], ids[next[pos]])] {
                heap.push(key: (nm >> 32) << 32 | UInt64(pos), left: ids[pos], right: ids[next[pos]])
            }
        }
        var out: [Int32] = []
        var i = 0
        while i >= 0 { out.append(ids[i]); i = next[i] }
        return out
    }
}

/// A binary min-heap of merge candidates keyed by (rank << 32 | position).
struct MinHeap {
    struct Entry { let key: UInt64; let left: Int32; let right: Int32 }
    private var items: [Entry] = []

    mutating func push(key: UInt64, left: Int32, right: Int32) {
        items.append(Entry(key: key, left: left, right: right))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].key <= items[i].key { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> Entry? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l].key < items[m].key { m = l }
                if r < items.count && items[r].key < items[m].key { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
