import Tensor

/// GELU activation in GPT-2's tanh form.
public enum GELU {
    /// - shapes: inp [N], out [N]
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minPerThread: 16384) { r in
            Kernels.gelu(inp + r.lowerBound, out + r.lowerBound, count: r.count)
        }
    }

    /// dinp += dout * gelu'(inp)
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minPerThread: 16384) { r in
            Kernels.geluBackward(inp + r.lowerBound, dout + r.lowerBound, dinp + r.lowerBound, count: r.count)
        }
    }
}
