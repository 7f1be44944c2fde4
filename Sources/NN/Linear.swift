import Tensor

/// Dense affine map y = x W^T + b with W stored as PyTorch's nn.Linear does: [out, in].
public enum Linear {
    /// - shapes: inp [N,C], weight [OC,C], bias [OC] or nil, out [N,OC]
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               rows n: Int, inFeatures c: Int, outFeatures oc: Int) {
        if let bias {
            Parallel.forEachChunk(n, minPerThread: 64) { rows in
                for r in rows { (out + r * oc).update(from: bias, count: oc) }
            }
        }
        BLAS.gemm(transB: true, m: n, n: oc, k: c, a: inp, b: weight, beta: bias == nil ? 0 : 1, c: out)
    }

    /// Accumulates gradients: dinp += dout W, dweight += dout^T inp, dbias += sum over rows of dout.
    /// Any of dinp / dweight / dbias may be nil to skip it (frozen weights, first layer).
    /// - shapes: dout [N,OC], inp [N,C], weight [OC,C], dinp [N,C], dweight [OC,C], dbias [OC]
    public static func backward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows n: Int, inFeatures c: Int, outFeatures oc: Int) {
        if let dinp {
            BLAS.gemm(m: n, n: c, k: oc, a: dout, b: weight, beta: 1, c: dinp)
        }
        if let dweight {
            BLAS.gemm(transA: true, m: oc, n: c, k: n, a: dout, b: inp, beta: 1, c: dweight)
        }
        if let dbias {
            columnSums(dout, rows: n, columns: oc, accumulateInto: dbias)
        }
    }

    /// acc[j] += sum_i m[i, j]; parallel over column blocks (deterministic order within a column).
    public static func columnSums(_ m: UnsafePointer<Float>, rows n: Int, columns oc: Int, accumulateInto acc: UnsafeMutablePointer<Float>) {
        let block = 256
        let blocks = (oc + block - 1) / block
        Parallel.forEachChunk(blocks) { bs in
            for bi in bs {
                let lo = bi * block, len = min(oc, lo + block) - lo
                for r in 0..<n { Kernels.axpy(1, m + r * oc + lo, acc + lo, count: len) }
            }
        }
    }
}
