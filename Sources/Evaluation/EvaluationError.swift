/// Errors in evaluation data and settings, naming the file (and line or key) at fault.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    /// A data file row that cannot be used: `file`, 1-based `line`, and what is wrong.
    case malformedRow(file: String, line: Int, reason: String)
    /// A data file that cannot be used as a whole.
    case malformedFile(file: String, reason: String)
    /// Settings or inputs that do not fit together.
    case invalidInput(String)

    public var description: String {
        switch self {
        case .malformedRow(let file, let line, let reason): return "\(file):\(line): \(reason)"
        case .malformedFile(let file, let reason): return "\(file): \(reason)"
        case .invalidInput(let m): return "invalid input: \(m)"
        }
    }
}
