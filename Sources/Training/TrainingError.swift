/// Errors of training runs and their checkpoints.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case checkpoint(path: String, reason: String)
    case data(String)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return "invalid training config: \(m)"
        case .checkpoint(let path, let reason): return "\(path): \(reason)"
        case .data(let m): return "training data: \(m)"
        }
    }
}
