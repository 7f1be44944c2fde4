/// The split of a product's output rows over the threads of a parallel region.
enum RowShares {
    /// Worker `worker`'s share of `count` items split into `threads` contiguous ranges whose
    /// boundaries are multiples of `multiple` (the last range takes the remainder).
    static func share(_ count: Int, worker: Int, threads: Int, multiple: Int = 4) -> Range<Int> {
        let per = ((count + threads - 1) / threads + multiple - 1) / multiple * multiple
        let lo = min(count, worker * per)
        return lo..<min(count, lo + per)
    }
}
