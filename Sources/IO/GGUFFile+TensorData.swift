import Foundation
import Tensor

/// Decoded access to GGUF tensor data.
///
/// Shapes are returned in PyTorch (row-major, outermost first) order: the GGUF dimensions
/// reversed, so a linear weight stored as [in, out] comes back as [out, in]. Byte ranges and block
/// counts were validated when the file was opened, so decoding cannot read outside the file.
extension GGUFFile {
    /// The values of `info`'s tensor decoded to float32 (any ggml type), in storage order.
    public func floats(_ info: GGUFTensorInfo) throws -> [Float] {
        do {
            return try info.type.dequantize(tensorData(info), count: info.elementCount)
        } catch let error as QuantizationError {
            throw IOError.invalidValue(file: path, offset: info.absoluteOffset, key: "tensor '\(info.name)'", reason: error.description)
        }
    }

    /// The values of the tensor named `name` decoded to float32, in storage order.
    public func floats(_ name: String) throws -> [Float] {
        try floats(try tensor(named: name))
    }

    /// The tensor named `name` decoded to float32 with its PyTorch-order shape (GGUF dims reversed).
    public func tensor(_ name: String) throws -> Tensor {
        let info = try tensor(named: name)
        return try Tensor(shape: info.rowMajorShape, values: try floats(info))
    }

    /// The tensor named `name` as a `QuantizedMatrix` [out, in] that reads the memory-mapped bytes
    /// in place (this file stays alive as long as the matrix). The GGUF tensor must have two
    /// dimensions [in, out] (further dimensions of size 1 are allowed).
    public func quantizedMatrix(_ name: String, gemvActivations: GEMVActivations = .int8,
                                tuning: QuantizedMatrixTuning = .default) throws -> QuantizedMatrix {
        let info = try tensor(named: name)
        let dims = info.dimensions
        guard dims.count >= 1, dims.count <= 2 || dims[2...].allSatisfy({ $0 == 1 }) else {
            throw IOError.invalidTensor(file: path, tensor: name, reason: "has dimensions \(dims); a matrix needs two")
        }
        let columns = dims[0], rows = dims.count > 1 ? dims[1] : 1
        do {
            return try QuantizedMatrix(type: info.type, rows: rows, columns: columns, bytes: tensorData(info), owner: self,
                                       gemvActivations: gemvActivations, tuning: tuning)
        } catch let error as QuantizationError {
            throw IOError.invalidValue(file: path, offset: info.absoluteOffset, key: "tensor '\(name)'", reason: error.description)
        }
    }
}
