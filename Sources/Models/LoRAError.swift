/// Errors in LoRA adapter configuration, files and use. Every case says where the problem is (a file
/// and a key, or a module path) and what is wrong.
public enum LoRAError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A LoRA setting is not acceptable (`source` is a file or "LoRA config").
    case invalidConfig(source: String, key: String, reason: String)
    /// A module-kind name that is not one of the LoRA targets.
    case unknownTarget(name: String, known: [String])
    /// An adapter file lacks a tensor the configuration requires.
    case missingTensor(file: String, key: String)
    /// A tensor names no adaptable linear module of the base model, or one the configuration does not target.
    case unknownModule(file: String, key: String, reason: String)
    /// A tensor's shape does not fit its module.
    case shapeMismatch(file: String, key: String, expected: [Int], found: [Int])
    /// A factor's rank differs from the configured rank `r`.
    case rankMismatch(file: String, key: String, configured: Int, found: Int)
    /// A tensor is stored in an element type the loader does not read.
    case unsupportedDType(file: String, key: String, dtype: String)
    /// The adapter does not fit the model it is applied to.
    case incompatibleBase(String)

    public var description: String {
        switch self {
        case .invalidConfig(let source, let key, let reason):
            return "\(source): invalid LoRA setting '\(key)': \(reason)"
        case .unknownTarget(let name, let known):
            return "unknown LoRA target module '\(name)' (known: \(known.joined(separator: ", ")))"
        case .missingTensor(let file, let key):
            return "\(file): missing LoRA tensor '\(key)'"
        case .unknownModule(let file, let key, let reason):
            return "\(file): tensor '\(key)': \(reason)"
        case .shapeMismatch(let file, let key, let expected, let found):
            return "\(file): tensor '\(key)' has shape \(found), expected \(expected)"
        case .rankMismatch(let file, let key, let configured, let found):
            return "\(file): tensor '\(key)' has rank \(found) but the adapter config says r = \(configured)"
        case .unsupportedDType(let file, let key, let dtype):
            return "\(file): tensor '\(key)' has dtype \(dtype); LoRA factors must be F32, F16 or BF16"
        case .incompatibleBase(let reason):
            return "LoRA adapter does not fit the base model: \(reason)"
        }
    }
}
