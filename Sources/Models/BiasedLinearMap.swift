import NN
import Tensor

/// A frozen linear map followed by a frozen float32 bias, y = x W^T + b: GPT-2's block linears over
/// a frozen base, whose weight may be quantized while the bias stays float32. The bias has no
/// gradient, so backward is the weight's input gradient alone.
public final class BiasedLinearMap: LinearMap, @unchecked Sendable {
    public let weight: LinearMap
    /// The bias [outFeatures] (a view: `biasOwner` keeps the memory alive).
    public let bias: UnsafePointer<Float>
    let biasOwner: AnyObject

    public init(weight: LinearMap, bias: Tensor) throws {
        guard bias.shape == [weight.outFeatures] else {
            throw TensorError.shapeMismatch("bias of shape \(bias.shape) does not fit a [\(weight.outFeatures), \(weight.inFeatures)] weight")
        }
        self.weight = weight
        self.bias = UnsafePointer(bias.pointer)
        biasOwner = bias.storage
    }

    public var inFeatures: Int { weight.inFeatures }
    public var outFeatures: Int { weight.outFeatures }
    public var storageBytes: Int { weight.storageBytes + outFeatures * 4 }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        weight.forward(x, rows: rows, into: out)
        let width = outFeatures, bias = bias
        Parallel.forEachChunk(rows, minPerThread: 64) { rs in
            for r in rs { Kernels.axpy(1, bias, out + r * width, count: width) }
        }
    }

    public func backwardInput(_ dy: UnsafePointer<Float>, rows: Int, accumulateInto dx: UnsafeMutablePointer<Float>) {
        weight.backwardInput(dy, rows: rows, accumulateInto: dx)
    }
}
