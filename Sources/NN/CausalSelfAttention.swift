import Foundation
import Tensor

/// Causal multi-head self-attention core (between the q/k/v projections and the output projection),
/// with grouped-query attention: `heads` query heads share `kvHeads` key/value heads
/// (query head h reads kv head h / (heads / kvHeads)).
///
/// q, k, v and the output are row-major [B*T, ld] buffers whose first heads*headDim (or
/// kvHeads*headDim) columns hold the heads, so GPT-2's packed c_attn output can be used in place.
/// Queries are processed in blocks of `rowBlock` rows; a block only multiplies against the keys it
/// may see, which skips most of the masked upper triangle.
public enum CausalSelfAttention {
    static let rowBlock = 64

    public struct Layout: Sendable, Equatable {
        public var batch, seq, heads, kvHeads, headDim: Int
        public var ldq, ldk, ldv, ldo: Int
        public init(batch: Int, seq: Int, heads: Int, kvHeads: Int, headDim: Int, ldq: Int, ldk: Int, ldv: Int, ldo: Int) {
            self.batch = batch; self.seq = seq; self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim
            self.ldq = ldq; self.ldk = ldk; self.ldv = ldv; self.ldo = ldo
        }
        var group: Int { heads / kvHeads }
    }

    /// y[b,t,h] = sum_{s<=t} softmax_s(q_t . k_s / sqrt(hd)) v_s, saving probabilities for backward.
    /// - shapes: q [B*T, ldq], k [B*T, ldk], v [B*T, ldv], out [B*T, ldo], att [B, heads, T, T]
    public static func forward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                               q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, layout l: Layout) {
        let t = l.seq, hs = l.headDim
        let scale = 1 / Float(hs).squareRoot()
        BLAS.singleThreaded {
            Parallel.forEach(l.batch * l.heads) { bh in
                let b = bh / l.heads, h = bh % l.heads, g = h / l.group
                let qb = q + b * t * l.ldq + h * hs
                let kb = k + b * t * l.ldk + g * hs, vb = v + b * t * l.ldv + g * hs
                let a = att + bh * t * t
                let o = out + b * t * l.ldo + h * hs
                for r0 in stride(from: 0, to: t, by: rowBlock) {
                    let rows = min(rowBlock, t - r0), cols = r0 + rows
                    BLAS.gemm(transB: true, m: rows, n: cols, k: hs, alpha: scale, a: qb + r0 * l.ldq, lda: l.ldq,
                              b: kb, ldb: l.ldk, c: a + r0 * t, ldc: t)
                    for i in r0..<(r0 + rows) {
                        let row = a + i * t
                        Kernels.softmaxInPlace(row, count: i + 1)
                        if i + 1 < t { (row + i + 1).update(repeating: 0, count: t - i - 1) }
                    }
                    BLAS.gemm(m: rows, n: hs, k: cols, a: a + r0 * t, lda: t, b: vb, ldb: l.ldv, c: o + r0 * l.ldo, ldc: l.ldo)
                }
            }
        }
    }

    /// Accumulates dq, dk, dv given dout and the saved probabilities.
    /// - shapes: as `forward`; dq, dk, dv share the strides of q, k, v (+=)
    public static func backward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                att: UnsafePointer<Float>, layout l: Layout) {
        let t = l.seq, hs = l.headDim
        let scale = 1 / Float(hs).squareRoot()
        let units = l.batch * l.kvHeads // one unit owns one kv head, so dk/dv never race
        let workers = min(Parallel.threadCount, units)
        let scratch = AlignedBuffer<Float>(count: workers * t * t)
        let per = (units + workers - 1) / workers
        BLAS.singleThreaded {
            DispatchQueueConcurrent.perform(workers) { w in
                let datt = scratch.pointer + w * t * t
                for unit in (w * per)..<min(units, (w + 1) * per) {
                    let b = unit / l.kvHeads, g = unit % l.kvHeads
                    let kb = k + b * t * l.ldk + g * hs, vb = v + b * t * l.ldv + g * hs
                    let dkb = dk + b * t * l.ldk + g * hs, dvb = dv + b * t * l.ldv + g * hs
                    for h in (g * l.group)..<((g + 1) * l.group) {
                        let qb = q + b * t * l.ldq + h * hs, dqb = dq + b * t * l.ldq + h * hs
                        let a = att + (b * l.heads + h) * t * t
                        let dy = dout + b * t * l.ldo + h * hs
                        for r0 in stride(from: 0, to: t, by: rowBlock) {
                            let rows = min(rowBlock, t - r0), cols = r0 + rows
                            let ab = a + r0 * t, db = datt + r0 * t
                            // datt = dy v^T ; dv += att^T dy
                            BLAS.gemm(transB: true, m: rows, n: cols, k: hs, a: dy + r0 * l.ldo, lda: l.ldo, b: vb, ldb: l.ldv, c: db, ldc: t)
                            BLAS.gemm(transA: true, m: cols, n: hs, k: rows, a: ab, lda: t, b: dy + r0 * l.ldo, ldb: l.ldo,
                                      beta: 1, c: dvb, ldc: l.ldv)
                            // softmax backward on each causal row
                            for i in r0..<(r0 + rows) {
                                let pr = a + i * t, dr = datt + i * t
                                let n = i + 1
                                let s = Kernels.dot(pr, dr, count: n)
                                for j in 0..<n { dr[j] = pr[j] * (dr[j] - s) }
                                if n < cols { (dr + n).update(repeating: 0, count: cols - n) }
                            }
                            // dq += scale dpre k ; dk += scale dpre^T q
                            BLAS.gemm(m: rows, n: hs, k: cols, alpha: scale, a: db, lda: t, b: kb, ldb: l.ldk,
                                      beta: 1, c: dqb + r0 * l.ldq, ldc: l.ldq)
                            BLAS.gemm(transA: true, m: cols, n: hs, k: rows, alpha: scale, a: db, lda: t, b: qb + r0 * l.ldq, ldb: l.ldq,
                                      beta: 1, c: dkb, ldc: l.ldk)
                        }
                    }
                }
            }
        }
    }

    // MARK: GPT-2's packed form

    static func packed(batch: Int, seq: Int, channels c: Int, heads: Int) -> Layout {
        Layout(batch: batch, seq: seq, heads: heads, kvHeads: heads, headDim: c / heads, ldq: 3 * c, ldk: 3 * c, ldv: 3 * c, ldo: c)
    }

    /// GPT-2 form: q, k, v packed in qkv [B,T,3C]; out [B,T,C]; att [B,NH,T,T].
    public static func forward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, batch: Int, seq: Int, channels c: Int, heads: Int) {
        forward(out: out, att: att, q: qkv, k: qkv + c, v: qkv + 2 * c, layout: packed(batch: batch, seq: seq, channels: c, heads: heads))
    }

    /// GPT-2 form of `backward`: dqkv [B,T,3C] (+=).
    public static func backward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
                                batch: Int, seq: Int, channels c: Int, heads: Int) {
        backward(dq: dqkv, dk: dqkv + c, dv: dqkv + 2 * c, dout: dout, q: qkv, k: qkv + c, v: qkv + 2 * c, att: att,
                 layout: packed(batch: batch, seq: seq, channels: c, heads: heads))
    }
}
