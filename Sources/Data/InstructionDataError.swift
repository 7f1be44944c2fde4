/// Errors raised while reading, tokenizing, mixing and batching instruction-tuning data.
public enum InstructionDataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A JSONL line is not a usable example: bad JSON, not an object, missing or non-string fields.
    case malformedLine(file: String, line: Int, reason: String)
    /// A file could not be read or holds no examples.
    case unreadableFile(file: String, reason: String)
    /// An example's answer (with its end token) does not fit the maximum sequence length.
    case answerTooLong(file: String, line: Int, answerTokens: Int, limit: Int)
    /// A `path[:weight]` data specification is malformed.
    case invalidSpec(spec: String, reason: String)
    /// A prompt template is unusable (unknown placeholder, missing special token, ...).
    case invalidTemplate(String)
    /// A parameter is out of range.
    case invalidArgument(String)
    /// A saved batcher state does not fit the batcher it is restored into.
    case stateMismatch(String)

    public var description: String {
        switch self {
        case .malformedLine(let file, let line, let reason):
            return "\(file):\(line): \(reason)"
        case .unreadableFile(let file, let reason):
            return "\(file): \(reason)"
        case .answerTooLong(let file, let line, let answerTokens, let limit):
            return "\(file):\(line): the answer takes \(answerTokens) tokens (with its end token) but the maximum sequence length is \(limit); raise the limit or shorten the answer"
        case .invalidSpec(let spec, let reason):
            return "invalid data specification '\(spec)': \(reason)"
        case .invalidTemplate(let reason):
            return "invalid prompt template: \(reason)"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        case .stateMismatch(let message):
            return "cannot restore instruction batcher state: \(message)"
        }
    }
}
