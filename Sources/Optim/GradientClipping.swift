import Foundation
import Tensor

/// Clipping by global L2 norm, as `torch.nn.utils.clip_grad_norm_`.
public enum GradientClipping {
    /// Global L2 norm of a gradient buffer (sum of squares accumulated in double).
    public static func globalNorm(_ grads: UnsafePointer<Float>, count: Int) -> Float {
        let chunks = max(1, min(Parallel.threadCount, count / 65536))
        let per = (count + chunks - 1) / chunks
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { pp in
            let base = pp.baseAddress!
            DispatchQueueConcurrent.perform(chunks) { w in
                let lo = w * per, hi = min(count, lo + per)
                if lo < hi { base[w] = Kernels.sumOfSquares(grads + lo, count: hi - lo) }
            }
        }
        return Float(partial.reduce(0, +).squareRoot())
    }

    /// Scales the gradients so their norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public static func clip(_ grads: UnsafeMutablePointer<Float>, count: Int, maxNorm: Float) -> Float {
        let norm = globalNorm(grads, count: count)
        let coef = maxNorm / (norm + 1e-6)
        if coef < 1 {
            Parallel.forEachChunk(count, minPerThread: 65536) { r in
                Kernels.scale(grads + r.lowerBound, by: coef, count: r.count)
            }
        }
        return norm
    }
}
