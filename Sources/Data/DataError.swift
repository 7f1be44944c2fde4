/// Errors raised while preparing corpora and sampling training data.
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The corpus produced no tokens (empty file or only separators and whitespace).
    case emptyCorpus(file: String)
    /// The corpus cannot be split as asked (e.g. one document and a validation fraction).
    case cannotSplit(file: String, reason: String)
    /// A token does not fit the shard format being written.
    case tokenOutOfRange(file: String, index: Int, value: Int32, format: String)
    /// A shard holds fewer tokens than one window or batch needs.
    case shardTooShort(file: String, tokens: Int, needed: Int)
    /// The requested sequence length exceeds the caller's limit (e.g. the model's context).
    case sequenceTooLong(requested: Int, limit: Int)
    /// A parameter is out of range.
    case invalidArgument(String)
    /// A saved sampler state does not fit the sampler it is restored into.
    case stateMismatch(String)

    public var description: String {
        switch self {
        case .emptyCorpus(let file):
            return "\(file): the corpus contains no text to tokenize"
        case .cannotSplit(let file, let reason):
            return "\(file): cannot split the corpus: \(reason)"
        case .tokenOutOfRange(let file, let index, let value, let format):
            return "\(file): token \(value) at index \(index) does not fit the \(format) shard format"
        case .shardTooShort(let file, let tokens, let needed):
            return "\(file): shard has \(tokens) tokens but at least \(needed) are needed"
        case .sequenceTooLong(let requested, let limit):
            return "sequence length \(requested) exceeds the allowed maximum \(limit)"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        case .stateMismatch(let message):
            return "cannot restore sampler state: \(message)"
        }
    }
}
