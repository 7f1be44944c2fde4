/// One labelled sentiment example: the instruction and text to classify, the gold label, and where
/// it came from (file line; `source` names the dataset in mixed files).
public struct SentimentExample: Codable, Equatable, Sendable {
    public var instruction: String
    public var input: String
    public var label: SentimentLabel
    public var line: Int
    public var source: String?

    public init(instruction: String, input: String, label: SentimentLabel, line: Int, source: String? = nil) {
        self.instruction = instruction
        self.input = input
        self.label = label
        self.line = line
        self.source = source
    }
}
