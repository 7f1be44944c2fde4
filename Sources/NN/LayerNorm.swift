import Foundation
import Tensor

/// Layer normalisation over the last dimension with learned scale and shift.
public enum LayerNorm {
    public typealias V = SIMD16<Float>

    /// out = (x - mean) * rstd * weight + bias, saving mean and rstd per row for backward.
    /// - shapes: inp [N,C], weight [C], bias [C], out [N,C], mean [N], rstd [N]
    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                               inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               rows n: Int, channels c: Int, eps: Float = 1e-5) {
        Parallel.forEachChunk(n, minPerThread: 16) { rows in
            for r in rows {
                let x = inp + r * c
                let m = Kernels.sum(x, count: c) / Float(c)
                var acc = V(repeating: 0)
                var i = 0
                while i + 16 <= c {
                    let d = UnsafeRawPointer(x + i).loadUnaligned(as: V.self) - m
                    acc += d * d
                    i += 16
                }
                var v = acc.sum()
                while i < c { let d = x[i] - m; v += d * d; i += 1 }
                v /= Float(c)
                let s = 1 / (v + eps).squareRoot()
                let o = out + r * c
                for j in 0..<c { o[j] = (x[j] - m) * s * weight[j] + bias[j] }
                mean[r] = m
                rstd[r] = s
            }
        }
    }

    /// Accumulates dinp, dweight, dbias given dout and the saved statistics.
    /// - shapes: dout [N,C], inp [N,C], dinp [N,C] (+=), dweight [C] (+=), dbias [C] (+=)
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows n: Int, channels c: Int) {
        // dinp rows are independent: parallel. dweight/dbias are reductions over rows: per-worker partials.
        let workers = min(Parallel.threadCount, max(1, n / 16))
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: workers * 2 * c)
        partial.initialize(repeating: 0, count: workers * 2 * c)
        defer { partial.deallocate() }
        let per = (n + workers - 1) / workers
        DispatchQueueConcurrent.perform(workers) { w in
            let lo = w * per, hi = min(n, lo + per)
            if lo >= hi { return }
            let dw = partial + w * 2 * c, db = dw + c
            for r in lo..<hi {
                let x = inp + r * c, dy = dout + r * c, dx = dinp + r * c
                let m = mean[r], s = rstd[r]
                var dnormMean: Float = 0, dnormNormMean: Float = 0
                for j in 0..<c {
                    let norm = (x[j] - m) * s
                    let dnorm = weight[j] * dy[j]
                    dnormMean += dnorm
                    dnormNormMean += dnorm * norm
                    db[j] += dy[j]
                    dw[j] += norm * dy[j]
                }
                dnormMean /= Float(c)
                dnormNormMean /= Float(c)
                for j in 0..<c {
                    let norm = (x[j] - m) * s
                    let dnorm = weight[j] * dy[j]
                    dx[j] += (dnorm - dnormMean - norm * dnormNormMean) * s
                }
            }
        }
        for w in 0..<workers {
            Kernels.axpy(1, partial + w * 2 * c, dweight, count: c)
            Kernels.axpy(1, partial + w * 2 * c + c, dbias, count: c)
        }
    }
}
