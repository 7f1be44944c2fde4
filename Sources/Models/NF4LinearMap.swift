import NN
import Quantization
import Tensor

/// An `NF4Matrix` (QLoRA's 4-bit NormalFloat with double-quantized scales) as a frozen `LinearMap`.
public final class NF4LinearMap: LinearMap, @unchecked Sendable {
    public let matrix: NF4Matrix

    public init(_ matrix: NF4Matrix) { self.matrix = matrix }

    public var inFeatures: Int { matrix.columns }
    public var outFeatures: Int { matrix.rows }
    public var storageBytes: Int { matrix.storageBytes }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        matrix.forward(x, rows: rows, into: out)
    }

    public func backwardInput(_ dy: UnsafePointer<Float>, rows: Int, accumulateInto dx: UnsafeMutablePointer<Float>) {
        matrix.backwardInput(dy, rows: rows, accumulateInto: dx)
    }
}
