/// What a model answered for one sentiment example.
public struct SentimentPrediction: Codable, Equatable, Sendable {
    /// Position in the evaluated list, and the example's line in its file.
    public var index: Int
    public var line: Int
    public var source: String?
    public var input: String
    public var gold: SentimentLabel
    public var predicted: SentimentLabel
    public var correct: Bool
    /// The generated answer text (generate scoring).
    public var answer: String?
    /// Summed log-probability of each label word after the prompt (likelihood scoring).
    public var logLikelihoods: [String: Double]?
    public var promptTokens: Int

    public init(index: Int, example: SentimentExample, predicted: SentimentLabel, answer: String?,
                logLikelihoods: [String: Double]?, promptTokens: Int) {
        self.index = index
        self.line = example.line
        self.source = example.source
        self.input = example.input
        self.gold = example.label
        self.predicted = predicted
        self.correct = example.label == predicted
        self.answer = answer
        self.logLikelihoods = logLikelihoods
        self.promptTokens = promptTokens
    }
}
