import Foundation
import Tensor

/// Causal multi-head self-attention core (after the qkv projection, before the output projection).
///
/// q, k and v are packed per position as GPT-2's c_attn produces them: `qkv[b, t, 0..<C]` is q,
/// `[C..<2C]` k and `[2C..<3C]` v, each split into `heads` contiguous slices of `C / heads`.
///
/// Queries are processed in blocks of `rowBlock` rows; a block only multiplies against the keys it
/// may see (0 ..< end of the block), which skips most of the masked upper triangle.
public enum CausalSelfAttention {
    static let rowBlock = 64

    /// y[b,t,h] = sum_{s<=t} softmax_s(q_t . k_s / sqrt(hs)) v_s, saving the probabilities for backward.
    /// - shapes: qkv [B,T,3C], out [B,T,C], att [B,NH,T,T] (probabilities; upper triangle left zero)
    public static func forward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, batch: Int, seq t: Int, channels c: Int, heads nh: Int) {
        let hs = c / nh
        let scale = 1 / Float(hs).squareRoot()
        BLAS.singleThreaded {
            Parallel.forEach(batch * nh) { bh in
                let b = bh / nh, h = bh % nh
                let q = qkv + b * t * 3 * c + h * hs
                let k = q + c, v = q + 2 * c
                let a = att + bh * t * t
                let o = out + b * t * c + h * hs
                for r0 in stride(from: 0, to: t, by: rowBlock) {
                    let rows = min(rowBlock, t - r0), cols = r0 + rows
                    BLAS.gemm(transB: true, m: rows, n: cols, k: hs, alpha: scale, a: q + r0 * 3 * c, lda: 3 * c,
                              b: k, ldb: 3 * c, c: a + r0 * t, ldc: t)
                    for i in r0..<(r0 + rows) {
                        let row = a + i * t
                        Kernels.softmaxInPlace(row, count: i + 1)
                        if i + 1 < t { (row + i + 1).update(repeating: 0, count: t - i - 1) }
                    }
                    BLAS.gemm(m: rows, n: hs, k: cols, a: a + r0 * t, lda: t, b: v, ldb: 3 * c, c: o + r0 * c, ldc: c)
                }
            }
        }
    }

    /// Accumulates dqkv given dout and the saved probabilities.
    /// - shapes: dout [B,T,C], qkv [B,T,3C], att [B,NH,T,T], dqkv [B,T,3C] (+=)
    public static func backward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
                                batch: Int, seq t: Int, channels c: Int, heads nh: Int) {
        let hs = c / nh
        let scale = 1 / Float(hs).squareRoot()
        let workers = min(Parallel.threadCount, batch * nh)
        let scratch = AlignedBuffer<Float>(count: workers * t * t)
        let per = (batch * nh + workers - 1) / workers
        BLAS.singleThreaded {
            DispatchQueueConcurrent.perform(workers) { w in
                let datt = scratch.pointer + w * t * t
                for bh in (w * per)..<min(batch * nh, (w + 1) * per) {
                    let b = bh / nh, h = bh % nh
                    let q = qkv + b * t * 3 * c + h * hs
                    let k = q + c, v = q + 2 * c
                    let dq = dqkv + b * t * 3 * c + h * hs
                    let dk = dq + c, dv = dq + 2 * c
                    let a = att + bh * t * t
                    let dy = dout + b * t * c + h * hs
                    for r0 in stride(from: 0, to: t, by: rowBlock) {
                        let rows = min(rowBlock, t - r0), cols = r0 + rows
                        let ab = a + r0 * t, db = datt + r0 * t
                        // datt = dy v^T ; dv += att^T dy
                        BLAS.gemm(transB: true, m: rows, n: cols, k: hs, a: dy + r0 * c, lda: c, b: v, ldb: 3 * c, c: db, ldc: t)
                        BLAS.gemm(transA: true, m: cols, n: hs, k: rows, a: ab, lda: t, b: dy + r0 * c, ldb: c, beta: 1, c: dv, ldc: 3 * c)
                        // softmax backward on each causal row
                        for i in r0..<(r0 + rows) {
                            let pr = a + i * t, dr = datt + i * t
                            let n = i + 1
                            let s = Kernels.dot(pr, dr, count: n)
                            for j in 0..<n { dr[j] = pr[j] * (dr[j] - s) }
                            if n < cols { (dr + n).update(repeating: 0, count: cols - n) }
                        }
                        // dq += scale dpre k ; dk += scale dpre^T q
                        BLAS.gemm(m: rows, n: hs, k: cols, alpha: scale, a: db, lda: t, b: k, ldb: 3 * c, beta: 1, c: dq + r0 * 3 * c, ldc: 3 * c)
                        BLAS.gemm(transA: true, m: cols, n: hs, k: rows, alpha: scale, a: db, lda: t, b: q + r0 * 3 * c, ldb: 3 * c,
                                  beta: 1, c: dk, ldc: 3 * c)
                    }
                }
            }
        }
    }
}
