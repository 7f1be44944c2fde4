import Tensor

/// A frozen linear map y = x W^T with W [out, in] in some storage (float32, or a quantized form that
/// is never expanded as a whole). Inference and frozen-base finetuning go through this protocol.
public protocol LinearMap: AnyObject, Sendable {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// out[N, outFeatures] = x[N, inFeatures] W^T
    func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>)
    /// dx[N, inFeatures] += dy[N, outFeatures] W
    func backwardInput(_ dy: UnsafePointer<Float>, rows: Int, accumulateInto dx: UnsafeMutablePointer<Float>)
    /// Bytes the weight occupies in memory.
    var storageBytes: Int { get }
}

/// A float32 weight matrix seen as a `LinearMap` (a view: `owner` keeps the memory alive).
public final class DenseLinearMap: LinearMap, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: UnsafeMutablePointer<Float>
    let owner: AnyObject

    public init(weight: Tensor) {
        precondition(weight.rank == 2, "a linear weight is 2-D")
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        self.weight = weight.pointer
        owner = weight.storage
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        Linear.forward(out: out, inp: x, weight: weight, bias: nil, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
    }

    public func backwardInput(_ dy: UnsafePointer<Float>, rows: Int, accumulateInto dx: UnsafeMutablePointer<Float>) {
        BLAS.gemm(m: rows, n: inFeatures, k: outFeatures, a: dy, b: weight, beta: 1, c: dx)
    }

    public var storageBytes: Int { inFeatures * outFeatures * 4 }
}

/// Looks up embedding rows from some storage.
public protocol EmbeddingTable: AnyObject, Sendable {
    var vocabularySize: Int { get }
    var width: Int { get }
    /// Writes row `id` (width floats) to `out`.
    func row(_ id: Int, into out: UnsafeMutablePointer<Float>)
}

/// A float32 embedding matrix [V, C] as an `EmbeddingTable`.
public final class DenseEmbeddingTable: EmbeddingTable, @unchecked Sendable {
    public let vocabularySize: Int
    public let width: Int
    let weight: UnsafeMutablePointer<Float>
    let owner: AnyObject

    public init(weight: Tensor) {
        precondition(weight.rank == 2)
        vocabularySize = weight.shape[0]
        width = weight.shape[1]
        self.weight = weight.pointer
        owner = weight.storage
    }

    public func row(_ id: Int, into out: UnsafeMutablePointer<Float>) {
        out.update(from: weight + id * width, count: width)
    }
}
