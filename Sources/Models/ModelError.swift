/// Errors in model configuration and use.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case invalidInput(String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return "invalid model config: \(m)"
        case .invalidInput(let m): return "invalid input: \(m)"
        case .checkpoint(let m): return "checkpoint error: \(m)"
        }
    }
}
