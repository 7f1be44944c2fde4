import NN
import Quantization
import Tensor

/// A `QuantizedMatrix` (weights kept in their stored ggml form) as a `LinearMap`.
public final class QuantizedLinearMap: LinearMap, @unchecked Sendable {
    public let matrix: QuantizedMatrix

    public init(_ matrix: QuantizedMatrix) { self.matrix = matrix }

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

/// Embedding rows decoded one at a time from a quantized [V, C] matrix.
public final class QuantizedEmbeddingTable: EmbeddingTable, @unchecked Sendable {
    public let matrix: QuantizedMatrix
    public init(_ matrix: QuantizedMatrix) { self.matrix = matrix }
    public var vocabularySize: Int { matrix.rows }
    public var width: Int { matrix.columns }
    public func row(_ id: Int, into out: UnsafeMutablePointer<Float>) { matrix.dequantizeRow(id, into: out) }
}
