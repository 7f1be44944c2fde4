import NN
import Quantization
import Tensor

/// How the frozen base weights of a finetuning run are stored (the finetune CLI's `--base-format`
/// style choice): float32 ("none"), int8 rows, QLoRA's NF4, or one of the ggml block types.
public enum FrozenWeightFormat: String, CaseIterable, Sendable {
    /// Plain float32 (CLI name "none"; "f32" is accepted too).
    case f32 = "none"
    /// Int8 with one absmax scale per output row (`Int8RowMatrix`).
    case int8
    /// QLoRA's NF4 with double-quantized block scales (`NF4Matrix`).
    case nf4
    /// ggml Q8_0 blocks of 32.
    case q8_0
    /// ggml Q4_0 blocks of 32.
    case q4_0
    /// ggml Q4_1 blocks of 32.
    case q4_1

    /// The names the CLI accepts, in order.
    public static var choices: [String] { allCases.map(\.cliName) }

    /// Parses a CLI name ("none", "int8", "nf4", "q8_0", "q4_0", "q4_1"; case-insensitive, "f32" for
    /// "none"), throwing an error that lists the choices.
    public init(parsing text: String) throws {
        let name = text.lowercased()
        if name == "f32" { self = .f32; return }
        guard let format = FrozenWeightFormat(rawValue: name) else {
            throw FrozenWeightFormatError.unknownFormat(text, choices: Self.choices)
        }
        self = format
    }

    /// The CLI name.
    public var cliName: String { rawValue }

    /// The ggml type of the block formats, nil for f32, int8 and NF4.
    public var ggmlType: GGMLType? {
        switch self {
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .f32, .int8, .nf4: return nil
        }
    }

    /// The input-feature count must be a multiple of this (1 when any count works).
    public var blockSize: Int {
        switch self {
        case .f32, .int8: return 1
        case .nf4: return NF4Matrix.blockSize
        case .q8_0, .q4_0, .q4_1: return ggmlType!.blockSize
        }
    }

    /// Stores a float32 weight [out, in] in this format. f32 keeps a view of `weight` (no copy); the
    /// other formats encode it. `name` labels errors (e.g. the tensor name).
    public func makeLinearMap(weight: Tensor, name: String = "weight") throws -> any LinearMap {
        guard weight.rank == 2 else { throw FrozenWeightFormatError.notAMatrix(name: name, shape: weight.shape) }
        guard weight.shape[1] % blockSize == 0 else {
            throw FrozenWeightFormatError.notBlockMultiple(name: name, format: cliName, shape: weight.shape, blockSize: blockSize)
        }
        if self == .f32 { return DenseLinearMap(weight: weight) }
        try requireFinite(weight, name: name)
        do {
            switch self {
            case .f32: return DenseLinearMap(weight: weight)
            case .int8: return Int8LinearMap(try Int8RowMatrix(quantizing: weight))
            case .nf4: return NF4LinearMap(try NF4Matrix(quantizing: weight))
            case .q8_0, .q4_0, .q4_1: return QuantizedLinearMap(try QuantizedMatrix(quantizing: weight, as: ggmlType!))
            }
        } catch let error as QuantizationError {
            throw FrozenWeightFormatError.encodingFailed(name: name, format: cliName, reason: error.description)
        }
    }

    /// Stores a weight that is already a ggml `QuantizedMatrix`: kept as stored (no copy, no
    /// re-quantization) when it already has this format's type; otherwise decoded to float32 once and
    /// stored in this format (re-quantizing a quantized weight adds the new format's error on top).
    public func makeLinearMap(quantized matrix: QuantizedMatrix, name: String = "weight") throws -> any LinearMap {
        if let type = ggmlType, matrix.type == type { return QuantizedLinearMap(matrix) }
        return try makeLinearMap(weight: matrix.dequantized(), name: name)
    }

    /// Quantized formats need finite weights (ggml's reference quantizers would accept NaN silently).
    private func requireFinite(_ weight: Tensor, name: String) throws {
        let columns = weight.shape[1]
        for i in 0..<weight.count where !weight.pointer[i].isFinite {
            throw FrozenWeightFormatError.encodingFailed(
                name: name, format: cliName, reason: "value \(weight.pointer[i]) at row \(i / columns), column \(i % columns) is not finite")
        }
    }
}
