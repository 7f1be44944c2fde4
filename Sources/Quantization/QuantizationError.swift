/// Errors raised when encoding, decoding or multiplying quantized data.
///
/// Each case says which ggml type and which sizes were involved, so that the message alone locates
/// the problem.
public enum QuantizationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `count` values are not a whole number of `type`'s blocks.
    case notBlockMultiple(type: GGMLType, count: Int)
    /// A buffer holds `actual` bytes where `expected` are needed for `elements` values of `type`.
    case byteCountMismatch(type: GGMLType, elements: Int, expected: Int, actual: Int)
    /// This toolkit cannot encode floats as `type` (it can decode every type).
    case cannotQuantize(type: GGMLType)
    /// Operand shapes do not fit together; the message names them.
    case shapeMismatch(String)
    /// Values cannot be re-rounded onto the existing blocks of `type` (`BlockGridRequantizer`).
    case noBlockGrid(type: GGMLType)

    public var description: String {
        switch self {
        case .notBlockMultiple(let type, let count):
            return "\(count) values are not a whole number of \(type) blocks of \(type.blockSize)"
        case .byteCountMismatch(let type, let elements, let expected, let actual):
            return "\(elements) values of \(type) need \(expected) bytes, got \(actual)"
        case .cannotQuantize(let type):
            return "quantizing to \(type) is not supported (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1)"
        case .shapeMismatch(let message):
            return "shape mismatch: \(message)"
        case .noBlockGrid(let type):
            return "re-rounding onto a base block's grid supports \(BlockGridRequantizer.supportedTypes.map(\.description).joined(separator: ", ")), not \(type)"
        }
    }
}
