/// Errors raised while reading or writing model and data files.
///
/// Every case names the file (or path) involved and says what is wrong, so that a message printed
/// to the user is enough to locate the problem without a debugger.
public enum IOError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No file exists at `path`.
    case fileNotFound(path: String)
    /// The file exists but cannot be opened or read (permissions, a directory, an I/O error).
    case unreadable(path: String, reason: String)
    /// Fewer bytes remain at `offset` than are needed to read `what`.
    case truncated(file: String, offset: Int, what: String)
    /// The file does not start with the expected magic number.
    case badMagic(file: String, expected: String, found: String)
    /// The file's format version is not one this reader understands.
    case unsupportedVersion(file: String, version: Int, supported: String)
    /// A value was read successfully but is not acceptable (a corrupt count, a bad dimension, ...).
    case invalidValue(file: String, offset: Int, key: String, reason: String)
    /// A required metadata key is absent.
    case missingKey(file: String, key: String)
    /// A metadata key holds a value of another type than the one asked for.
    case typeMismatch(file: String, key: String, expected: String, found: String)
    /// A tensor uses a ggml type id this reader does not know.
    case unknownTensorType(file: String, tensor: String, typeID: UInt32)
    /// No tensor of that name exists in the file.
    case missingTensor(file: String, name: String)
    /// Writing (or renaming into place) failed.
    case writeFailed(path: String, reason: String)
    /// A tensor handed to a writer, or read as a matrix, cannot be used as asked (its element count
    /// does not match its shape, its rows are not whole blocks, its name is taken, ...).
    case invalidTensor(file: String, tensor: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): file not found"
        case .unreadable(let path, let reason):
            return "\(path): cannot read file: \(reason)"
        case .truncated(let file, let offset, let what):
            return "\(file): unexpected end of file at byte offset \(offset) while reading \(what) (file truncated or corrupt)"
        case .badMagic(let file, let expected, let found):
            return "\(file): bad magic number: expected \(expected), found \(found) (not a file of the expected format)"
        case .unsupportedVersion(let file, let version, let supported):
            return "\(file): unsupported format version \(version) (supported: \(supported))"
        case .invalidValue(let file, let offset, let key, let reason):
            return "\(file): invalid value for \(key) at byte offset \(offset): \(reason)"
        case .missingKey(let file, let key):
            return "\(file): required metadata key '\(key)' is missing"
        case .typeMismatch(let file, let key, let expected, let found):
            return "\(file): metadata key '\(key)' has type \(found), expected \(expected)"
        case .unknownTensorType(let file, let tensor, let typeID):
            return "\(file): tensor '\(tensor)' has unknown or unsupported ggml type id \(typeID)"
        case .missingTensor(let file, let name):
            return "\(file): no tensor named '\(name)'"
        case .writeFailed(let path, let reason):
            return "\(path): write failed: \(reason)"
        case .invalidTensor(let file, let tensor, let reason):
            return "\(file): tensor '\(tensor)': \(reason)"
        }
    }
}
