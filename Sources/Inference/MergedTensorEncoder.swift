import Foundation
import IO
import Quantization
import Tensor

/// Encodes the tensors of a model merged from a GGUF base so that what the adapter did not change
/// stays exactly as the base file stores it:
/// - a tensor no adapter module touches, written in its base type, is copied byte for byte from the
///   base (after checking that those bytes decode to the values being written);
/// - an adapted tensor written in its base type, when that is Q4_0, Q4_1 or Q8_0, is re-rounded onto
///   the base blocks' grids (`BlockGridRequantizer`) unless `requantization` is `.fresh`;
/// - anything else (another type, `.fresh`) is left to the exporter's reference quantizer.
/// Tensors are named and laid out as in GGUF (q/k rows in llama.cpp's rotary order), so the values
/// handed in line up with the base file's bytes row for row.
public final class MergedTensorEncoder {
    /// The base model's GGUF file.
    public let base: GGUFFile
    /// GGUF names of the tensors an adapter module changes.
    public let adaptedTensors: Set<String>
    public let requantization: MergeRequantization
    /// Seed of the stochastic rounding hash.
    public let seed: UInt64

    /// Tensors copied byte for byte from the base file.
    public private(set) var copiedTensors = 0
    /// Adapted tensors re-rounded onto their base grids.
    public private(set) var gridTensors = 0
    /// Tensors left to the exporter's quantizer (another type than the base's, or `.fresh`).
    public private(set) var requantizedTensors = 0
    /// Block statistics summed over `gridTensors`.
    public private(set) var gridStatistics = GridRequantizationStatistics()
    /// The type of the re-rounded tensors (for the summary).
    private var gridTypes: Set<String> = []

    public init(base: GGUFFile, adaptedTensors: Set<String>, requantization: MergeRequantization, seed: UInt64 = 0) {
        self.base = base
        self.adaptedTensors = adaptedTensors
        self.requantization = requantization
        self.seed = seed
    }

    /// The encoding of tensor `name` (GGUF name; `tensor` in GGUF row layout, PyTorch-order shape) as
    /// `type`, or nil when the exporter should quantize it. Throws when the base file has no such
    /// tensor or stores it with another shape (the model was not merged from this base).
    public func encoded(_ name: String, _ tensor: Tensor, as type: GGMLType) throws -> [UInt8]? {
        guard let info = try? base.tensor(named: name) else {
            throw IOError.invalidTensor(file: base.path, tensor: name,
                                        reason: "the base file has no such tensor, but the merged model has one of shape \(tensor.shape); merge into the model the adapter was trained on")
        }
        guard info.rowMajorShape == tensor.shape else {
            throw IOError.invalidTensor(file: base.path, tensor: name,
                                        reason: "has shape \(info.rowMajorShape) in the base file, but the merged model's tensor has shape \(tensor.shape); merge into the model the adapter was trained on")
        }
        guard info.type == type else { requantizedTensors += 1; return nil }
        let bytes = base.tensorData(info)
        let values = UnsafeBufferPointer(tensor.buffer)
        if !adaptedTensors.contains(name) {
            let decoded = try base.floats(info)
            if let i = decoded.indices.first(where: { decoded[$0] != values[$0] }) {
                throw IOError.invalidTensor(file: base.path, tensor: name,
                                            reason: "no adapter module changes it, yet the merged model's value \(i) is \(values[i]) where the base file stores \(decoded[i]); merge into the model the adapter was trained on")
            }
            copiedTensors += 1
            return Array(bytes)
        }
        guard let rounding = requantization.gridRounding(seed: seed), BlockGridRequantizer.supportedTypes.contains(type) else {
            requantizedTensors += 1
            return nil
        }
        var out = [UInt8](repeating: 0, count: bytes.count)
        let stats: GridRequantizationStatistics
        do {
            stats = try out.withUnsafeMutableBytes {
                try BlockGridRequantizer.requantize(values, type: type, ontoGridOf: bytes, rounding: rounding,
                                                    stream: GridRounding.stream(named: name), into: $0)
            }
        } catch let error as QuantizationError {
            throw IOError.invalidTensor(file: base.path, tensor: name, reason: error.description)
        }
        gridStatistics += stats
        gridTensors += 1
        gridTypes.insert(type.description)
        return out
    }

    /// One line on what was copied, re-rounded and quantized afresh.
    public var summary: String {
        var parts = ["\(copiedTensors) unchanged tensors copied from the base"]
        if gridTensors > 0 {
            let s = gridStatistics
            let changed = s.gridValues > 0 ? 100 * Double(s.changedCodes) / Double(s.gridValues) : 0
            parts.append(String(format: "%d adapted tensors re-rounded on the base %@ grid (%@, %.2f%% of codes changed, %d of %d blocks beyond the grid re-quantized afresh)",
                                gridTensors, gridTypes.sorted().joined(separator: "/"), requantization == .baseGridStochastic ? "stochastic rounding" : "nearest rounding", changed, s.freshBlocks, s.blocks))
        }
        if requantizedTensors > 0 { parts.append("\(requantizedTensors) quantized afresh") }
        return parts.joined(separator: ", ")
    }
}
