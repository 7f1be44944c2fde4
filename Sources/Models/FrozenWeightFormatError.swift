/// Errors in choosing or applying a frozen-weight format.
public enum FrozenWeightFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A format name that is not one of `choices`.
    case unknownFormat(String, choices: [String])
    /// A weight that is not a 2-D matrix [out, in].
    case notAMatrix(name: String, shape: [Int])
    /// A weight whose input-feature count is not a whole number of the format's blocks.
    case notBlockMultiple(name: String, format: String, shape: [Int], blockSize: Int)
    /// The weight could not be encoded (non-finite values and the like); the message says why.
    case encodingFailed(name: String, format: String, reason: String)

    public var description: String {
        switch self {
        case .unknownFormat(let name, let choices):
            return "unknown frozen-weight format '\(name)' (choose one of: \(choices.joined(separator: ", ")))"
        case .notAMatrix(let name, let shape):
            return "weight \(name) must be a 2-D matrix [out, in], got shape \(shape)"
        case .notBlockMultiple(let name, let format, let shape, let blockSize):
            return "cannot store weight \(name) \(shape) as \(format): its \(shape.last ?? 0) input features are not a multiple of the block size \(blockSize)"
        case .encodingFailed(let name, let format, let reason):
            return "cannot store weight \(name) as \(format): \(reason)"
        }
    }
}
