/// The ggml tensor element types this toolkit understands, with their GGUF type ids.
///
/// Quantized types store values in blocks along a row: `blockSize` consecutive values occupy
/// `typeSize` bytes. A row of `n` values (n a multiple of `blockSize`) takes `rowByteCount(n)`
/// bytes. Every case can be decoded to float32 (`GGMLType+Rows.swift`); `canQuantize` says which
/// ones this toolkit can also encode.
public enum GGMLType: UInt32, CaseIterable, Sendable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q4_K = 12
    case q6_K = 14
    case bf16 = 30

    /// Number of values in one block (1 for plain float types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return 32
        case .q4_K, .q6_K: return 256
        }
    }

    /// Bytes occupied by one block.
    public var typeSize: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18   // f16 d + 16 bytes of nibbles
        case .q4_1: return 20   // f16 d, f16 m + 16 bytes
        case .q5_0: return 22   // f16 d + 4 bytes of high bits + 16 bytes
        case .q5_1: return 24   // f16 d, f16 m + 4 + 16
        case .q8_0: return 34   // f16 d + 32 int8
        case .q4_K: return 144  // f16 d, f16 dmin, 12 bytes scales, 128 bytes nibbles
        case .q6_K: return 210  // 128 low bits + 64 high bits + 16 scales + f16 d
        }
    }

    /// Whether the type is block-quantized.
    public var isQuantized: Bool { blockSize > 1 }

    /// The name llama.cpp uses ("F32", "Q4_K", ...).
    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q4_K: return "Q4_K"
        case .q6_K: return "Q6_K"
        case .bf16: return "BF16"
        }
    }

    /// The type named `name` as llama.cpp spells it ("Q4_1", "f16", case-insensitive), or nil.
    public init?(name: String) {
        guard let t = GGMLType.allCases.first(where: { $0.description.lowercased() == name.lowercased() }) else { return nil }
        self = t
    }

    /// Bytes needed for `elements` values, or nil when `elements` is not a whole number of blocks
    /// or the size overflows.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: typeSize)
        return overflow ? nil : bytes
    }

    /// Bytes of one row of `columns` values; traps unless `columns` is a multiple of `blockSize`
    /// (callers validate shapes first, see `QuantizationError.notBlockMultiple`).
    public func rowByteCount(columns: Int) -> Int {
        precondition(columns % blockSize == 0, "\(columns) values are not a whole number of \(self) blocks")
        return columns / blockSize * typeSize
    }
}
