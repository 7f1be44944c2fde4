import Tensor

/// Residual connection: out = a + b; its backward passes dout unchanged to both inputs.
public enum Residual {
    /// - shapes: a [N], b [N], out [N]
    public static func forward(out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minPerThread: 32768) { r in
            Kernels.add(a + r.lowerBound, b + r.lowerBound, out + r.lowerBound, count: r.count)
        }
    }

    /// da += dout; db += dout
    public static func backward(da: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minPerThread: 32768) { r in
            Kernels.axpy(1, dout + r.lowerBound, da + r.lowerBound, count: r.count)
            Kernels.axpy(1, dout + r.lowerBound, db + r.lowerBound, count: r.count)
        }
    }
}
