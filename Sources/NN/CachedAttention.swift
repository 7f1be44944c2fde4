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

    /// One query (generation). Each cached key and value row is read once for all the query heads
    /// that share it; cached positions are split between threads (scores, then weighted value sums
    /// into per-thread partial outputs that are added up).
    func attendOne(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                   total: Int, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let hd = headDim, group = heads / kvHeads, width = heads * hd
        let scale = 1 / Float(hd).squareRoot()
        let parallel = heads * total * hd >= parallelWork
        // scores[h, t] = q_h . k_t / sqrt(hd)
        Parallel.forEachChunk(total, minPerThread: parallel ? 1 : total) { range in
            for t in range {
                for g in 0..<kvHeads {
                    let k = keys + t * ldkv + g * hd
                    for h in (g * group)..<((g + 1) * group) { scores[h * total + t] = scale * Kernels.dot(q + h * hd, k, count: hd) }
                }
            }
        }
        for h in 0..<heads { Kernels.softmaxInPlace(scores + h * total, count: total) }
        // out_h = sum_t p[h, t] v_t, positions split over workers
        let workers = parallel ? min(Parallel.threadCount, total) : 1
        let partial = AlignedBuffer<Float>(count: workers * width)
        let per = (total + workers - 1) / workers
        Parallel.forEachChunk(workers) { ws in
            for w in ws {
                let o = partial.pointer + w * width
                for t in (w * per)..<min(total, (w + 1) * per) {
                    for g in 0..<kvHeads {
                        let v = values + t * ldkv + g * hd
                        for h in (g * group)..<((g + 1) * group) { Kernels.axpy(scores[h * total + t], v, o + h * hd, count: hd) }
                    }
                }
            }
        }
        out.update(from: partial.pointer, count: width)
        for w in 1..<workers { Kernels.axpy(1, partial.pointer + w * width, out, count: width) }
    }
}
