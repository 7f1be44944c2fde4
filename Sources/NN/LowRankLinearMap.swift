import Tensor

/// A factorised weight W = B A (A [r, in], B [out, r]) as a `LinearMap`: inference and frozen-base
/// products on low-rank models cost r (in + out) per row instead of in x out.
public final class LowRankLinearMap: LinearMap, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let rank: Int
    let a: Tensor
    let b: Tensor

    /// `a` [r, in] and `b` [out, r] are referenced, not copied.
    public init(a: Tensor, b: Tensor) throws {
        guard a.rank == 2, b.rank == 2, b.shape[1] == a.shape[0] else {
            throw TensorError.shapeMismatch("low-rank factors A \(a.shape) and B \(b.shape) do not chain (A is [r, in], B is [out, r])")
        }
        self.a = a
        self.b = b
        rank = a.shape[0]
        inFeatures = a.shape[1]
        outFeatures = b.shape[0]
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        let hidden = AlignedBuffer<Float>(count: rows * rank)
        LowRankLinear.forward(out: out, hidden: hidden.pointer, inp: x, weightA: a.pointer, weightB: b.pointer, bias: nil, rows: rows,
                              inFeatures: inFeatures, rank: rank, outFeatures: outFeatures)
    }

    public func backwardInput(_ dy: UnsafePointer<Float>, rows: Int, accumulateInto dx: UnsafeMutablePointer<Float>) {
        let dh = AlignedBuffer<Float>(count: rows * rank)
        BLAS.gemm(m: rows, n: rank, k: outFeatures, a: dy, b: b.pointer, beta: 0, c: dh.pointer)
        BLAS.gemm(m: rows, n: inFeatures, k: rank, a: dh.pointer, b: a.pointer, beta: 1, c: dx)
    }

    public var storageBytes: Int { rank * (inFeatures + outFeatures) * 4 }
}
