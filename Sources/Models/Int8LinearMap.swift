import NN
import Quantization
import Tensor

/// An `Int8RowMatrix` (int8 codes with one absmax scale per output row) as a frozen `LinearMap`.
public final class Int8LinearMap: LinearMap, @unchecked Sendable {
    public let matrix: Int8RowMatrix

    public init(_ matrix: Int8RowMatrix) { self.matrix = matrix }

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
