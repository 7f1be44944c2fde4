import Foundation
import Tensor

/// Root-mean-square normalisation with a learned scale (LLaMA): y = x / sqrt(mean(x^2) + eps) * w.
public enum RMSNorm {
    public typealias V = SIMD16<Float>

    /// - shapes: inp [N,C], weight [C], out [N,C], rstd [N] (saved for backward; may be nil at inference)
    public static func forward(out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>?, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, rows n: Int, channels c: Int, eps: Float) {
        Parallel.forEachChunk(n, minPerThread: 16) { rows in
            for r in rows {
                let x = inp + r * c, o = out + r * c
                let ms = Float(Kernels.sumOfSquares(x, count: c) / Double(c))
                let s = 1 / (ms + eps).squareRoot()
                var j = 0
                while j + 16 <= c {
                    let v = UnsafeRawPointer(x + j).loadUnaligned(as: V.self) * s * UnsafeRawPointer(weight + j).loadUnaligned(as: V.self)
                    UnsafeMutableRawPointer(o + j).storeBytes(of: v, as: V.self)
                    j += 16
                }
                while j < c { o[j] = x[j] * s * weight[j]; j += 1 }
                rstd?[r] = s
            }
        }
    }

    /// dinp += r (w*dy - x r^2 mean(w*dy*x)); dweight += dy * x * r
    /// - shapes: dout [N,C], inp [N,C], rstd [N], dinp [N,C] (+=), dweight [C] (+=) or nil when frozen
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                rows n: Int, channels c: Int) {
        let workers = min(Parallel.threadCount, max(1, n / 16))
        let partial = AlignedBuffer<Float>(count: workers * c)
        let per = (n + workers - 1) / workers
        DispatchQueueConcurrent.perform(workers) { w in
            let lo = w * per, hi = min(n, lo + per)
            if lo >= hi { return }
            let dw = partial.pointer + w * c
            for r in lo..<hi {
                let x = inp + r * c, dy = dout + r * c, dx = dinp + r * c
                let s = rstd[r]
                var dot: Float = 0
                for j in 0..<c { dot += weight[j] * dy[j] * x[j] }
                let k = s * s * dot / Float(c)
                for j in 0..<c {
                    dx[j] += s * (weight[j] * dy[j] - x[j] * k)
                    dw[j] += dy[j] * x[j] * s
                }
            }
        }
        if let dweight { for w in 0..<workers { Kernels.axpy(1, partial.pointer + w * c, dweight, count: c) } }
    }
}
