/// How a model scored one multiple-choice question.
public struct MultipleChoicePrediction: Codable, Equatable, Sendable {
    public var index: Int
    public var line: Int
    public var label: Int
    /// Summed log-probability of each choice's continuation, and its token count.
    public var logLikelihoods: [Double]
    public var continuationTokens: [Int]
    /// The choice with the highest log-likelihood, and with the highest log-likelihood per byte of
    /// continuation text (the harness convention for `acc_norm`).
    public var predicted: Int
    public var predictedNormalized: Int
    public var correct: Bool
    public var correctNormalized: Bool

    public init(index: Int, item: MultipleChoiceItem, logLikelihoods: [Double], continuationTokens: [Int]) {
        self.index = index
        self.line = item.line
        self.label = item.label
        self.logLikelihoods = logLikelihoods
        self.continuationTokens = continuationTokens
        let perByte = zip(logLikelihoods, item.choices).map { $0 / Double(max(1, $1.continuation.utf8.count)) }
        predicted = MultipleChoicePrediction.argmax(logLikelihoods)
        predictedNormalized = MultipleChoicePrediction.argmax(perByte)
        correct = predicted == item.label
        correctNormalized = predictedNormalized == item.label
    }

    /// Index of the largest value (the first on ties).
    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
