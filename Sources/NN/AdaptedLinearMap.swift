import Tensor

/// A frozen map with low-rank adapters added to some of its output rows: y = W x, then for each
/// adapter y[rows off ..< off + out_i] += scaling * B (A x). Inference with a LoRA adapter keeps the
/// base in its stored (possibly quantized, stacked) form and adds the adapters' small products.
public final class AdaptedLinearMap: LinearMap, @unchecked Sendable {
    /// One adapter over the output rows starting at `rowOffset`: A [r, in], B [out_i, r].
    public struct Delta {
        public let rowOffset: Int
        public let a: Tensor
        public let b: Tensor
        public let scaling: Float
        public init(rowOffset: Int, a: Tensor, b: Tensor, scaling: Float) {
            self.rowOffset = rowOffset; self.a = a; self.b = b; self.scaling = scaling
        }
        var rank: Int { a.shape[0] }
        var rows: Int { b.shape[0] }
    }

    public let base: LinearMap
    public let deltas: [Delta]
    public var inFeatures: Int { base.inFeatures }
    public var outFeatures: Int { base.outFeatures }

    public init(base: LinearMap, deltas: [Delta]) throws {
        for d in deltas {
            guard d.a.rank == 2, d.b.rank == 2, d.a.shape[1] == base.inFeatures, d.b.shape[1] == d.a.shape[0],
                  d.rowOffset >= 0, d.rowOffset + d.b.shape[0] <= base.outFeatures else {
                throw TensorError.shapeMismatch("adapter A \(d.a.shape), B \(d.b.shape) at row \(d.rowOffset) does not fit a [\(base.outFeatures), \(base.inFeatures)] weight")
            }
        }
        self.base = base
        self.deltas = deltas
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        base.forward(x, rows: rows, into: out)
        for d in deltas {
            let h = AlignedBuffer<Float>(count: rows * d.rank)
            BLAS.gemm(transB: true, m: rows, n: d.rank, k: inFeatures, a: x, b: d.a.pointer, c: h.pointer)
            BLAS.gemm(transB: true, m: rows, n: d.rows, k: d.rank, alpha: d.scaling, a: h.pointer, b: d.b.pointer,
                      beta: 1, c: out + d.rowOffset, ldc: outFeatures)
        }
    }

    public func backwardInput(_ dy: UnsafePointer<Float>, rows: Int, accumulateInto dx: UnsafeMutablePointer<Float>) {
        base.backwardInput(dy, rows: rows, accumulateInto: dx)
        for d in deltas {
            let dh = AlignedBuffer<Float>(count: rows * d.rank)
            BLAS.gemm(m: rows, n: d.rank, k: d.rows, alpha: d.scaling, a: dy + d.rowOffset, lda: outFeatures, b: d.b.pointer, c: dh.pointer)
            BLAS.gemm(m: rows, n: inFeatures, k: d.rank, a: dh.pointer, b: d.a.pointer, beta: 1, c: dx)
        }
    }

    public var storageBytes: Int { base.storageBytes + deltas.reduce(0) { $0 + ($1.a.count + $1.b.count) * 4 } }
}
