import Foundation
import Tensor

/// Causal attention of new queries against a key/value cache (inference), with grouped-query
/// attention (query head h reads kv head h / (heads / kvHeads)).
///
/// Keys and values are cached row-major per position ([position, ldkv], heads contiguous). The n new
/// queries sit at positions start..<start+n, with `total` = start + n positions cached.
public struct CachedAttention: Sendable {
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Row strides of the queries, of the key/value cache and of the output.
    public var ldq: Int, ldkv: Int, ldo: Int
    /// A single query splits cached positions over threads from this much work (heads x positions x
    /// head size) on; below it one thread is faster (with the spinning worker pool a split costs
    /// about a microsecond, so from some 16 positions of 9 x 64 on).
    public var parallelWork = 8_192

    public init(heads: Int, kvHeads: Int, headDim: Int, ldq: Int, ldkv: Int, ldo: Int) {
        self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim
        self.ldq = ldq; self.ldkv = ldkv; self.ldo = ldo
    }

    /// - shapes: q [n, ldq], keys/values [total, ldkv], scores scratch [heads * n * total], out [n, ldo]
    public func attend(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                       rows n: Int, start: Int, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let total = start + n
        if n == 1 {
            attendOne(q: q, keys: keys, values: values, total: total, scores: scores, out: out)
            return
        }
        let hd = headDim, group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        BLAS.singleThreaded {
            Parallel.forEach(heads) { head in
                let kvh = head / group
                let s = scores + head * n * total
                BLAS.gemm(transB: true, m: n, n: total, k: hd, alpha: scale, a: q + head * hd, lda: ldq, b: keys + kvh * hd, ldb: ldkv, c: s, ldc: total)
                for i in 0..<n {
                    let visible = start + i + 1
                    Kernels.softmaxInPlace(s + i * total, count: visible)
                    if visible < total { (s + i * total + visible).update(repeating: 0, count: total - visible) }
                }
                BLAS.gemm(m: n, n: hd, k: total, a: s, lda: total, b: values + kvh * hd, ldb: ldkv, c: out + head * hd, ldc: ldo)
            }
        }
    }

    /// One query of `attend(queries:)`: query row `q` against the first `total` cached positions of
    /// `keys`/`values` (the query's own position is the last), output to `out`.
    public struct Query {
        public var q: UnsafePointer<Float>
        public var keys: UnsafePointer<Float>
        public var values: UnsafePointer<Float>
        public var total: Int
        public var out: UnsafeMutablePointer<Float>
        public init(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, total: Int, out: UnsafeMutablePointer<Float>) {
            self.q = q; self.keys = keys; self.values = values; self.total = total; self.out = out
        }
    }

    /// Several single queries (of one or several sequences), each computed exactly as `attend` with
    /// one row computes it (the same sums in the same order), so a query's output does not depend on
    /// the others; the queries are spread over threads instead of their positions.
    public func attend(queries: [Query]) {
        guard let longest = queries.map(\.total).max() else { return }
        let width = heads * headDim
        Parallel.forEachChunk(queries.count) { range in
            let scores = AlignedBuffer<Float>(count: heads * longest)
            let partial = AlignedBuffer<Float>(count: Parallel.threadCount * width)
            for query in queries[range] {
                let total = query.total
                score(query.q, keys: query.keys, total: total, positions: 0..<total, into: scores.pointer)
                for h in 0..<heads { Kernels.softmaxInPlace(scores.pointer + h * total, count: total) }
                let split = valueSplit(total: total)
                partial.pointer.update(repeating: 0, count: split.workers * width)
                for w in 0..<split.workers {
                    accumulateValues(query.values, total: total, positions: split.range(w), scores: scores.pointer, into: partial.pointer + w * width)
                }
                combine(partial.pointer, workers: split.workers, into: query.out)
            }
        }
    }

    /// One query (generation). Each cached key and value row is read once for all the query heads
    /// that share it; cached positions are split between threads (scores, then weighted value sums
    /// into per-thread partial outputs that are added up).
    func attendOne(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                   total: Int, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let width = heads * headDim
        let split = valueSplit(total: total)
        Parallel.forEachChunk(total, minPerThread: split.workers > 1 ? 1 : total) { range in
            score(q, keys: keys, total: total, positions: range, into: scores)
        }
        for h in 0..<heads { Kernels.softmaxInPlace(scores + h * total, count: total) }
        let partial = AlignedBuffer<Float>(count: split.workers * width)
        Parallel.forEachChunk(split.workers) { ws in
            for w in ws { accumulateValues(values, total: total, positions: split.range(w), scores: scores, into: partial.pointer + w * width) }
        }
        combine(partial.pointer, workers: split.workers, into: out)
    }

    /// How one query's weighted value sums are split into partial sums: over `workers` ranges of
    /// positions when the query is large enough to be worth several threads (`parallelWork`).
    func valueSplit(total: Int) -> (workers: Int, range: (Int) -> Range<Int>) {
        let workers = heads * total * headDim >= parallelWork ? min(Parallel.threadCount, total) : 1
        let per = (total + workers - 1) / workers
        return (workers, { w in (w * per)..<min(total, (w + 1) * per) })
    }

    /// scores[h, t] = q_h . k_t / sqrt(headDim) for the cached positions t in `positions`.
    func score(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, total: Int, positions: Range<Int>, into scores: UnsafeMutablePointer<Float>) {
        let hd = headDim, group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        for t in positions {
            for g in 0..<kvHeads {
                let k = keys + t * ldkv + g * hd
                for h in (g * group)..<((g + 1) * group) { scores[h * total + t] = scale * Kernels.dot(q + h * hd, k, count: hd) }
            }
        }
    }

    /// out_h += sum over t in `positions` of p[h, t] v_t.
    func accumulateValues(_ values: UnsafePointer<Float>, total: Int, positions: Range<Int>, scores: UnsafePointer<Float>,
                          into out: UnsafeMutablePointer<Float>) {
        let hd = headDim, group = heads / kvHeads
        for t in positions {
            for g in 0..<kvHeads {
                let v = values + t * ldkv + g * hd
                for h in (g * group)..<((g + 1) * group) { Kernels.axpy(scores[h * total + t], v, out + h * hd, count: hd) }
            }
        }
    }

    /// out = the sum of the `workers` partial outputs, in order.
    func combine(_ partial: UnsafePointer<Float>, workers: Int, into out: UnsafeMutablePointer<Float>) {
        let width = heads * headDim
        out.update(from: partial, count: width)
        for w in 1..<max(1, workers) { Kernels.axpy(1, partial + w * width, out, count: width) }
    }
}
