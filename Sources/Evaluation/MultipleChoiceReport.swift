/// Accuracy of a multiple-choice evaluation (plain and length-normalised), speed, and every
/// question's scores.
public struct MultipleChoiceReport: Codable, Sendable {
    public var count: Int
    public var accuracy: Double
    public var accuracyNormalized: Double
    /// Questions run through the model together.
    public var batchSize: Int
    public var seconds: Double
    public var computedTokens: Int
    public var reusedTokens: Int
    public var predictions: [MultipleChoicePrediction]

    public init(predictions: [MultipleChoicePrediction], batchSize: Int = 1, seconds: Double, computedTokens: Int, reusedTokens: Int) throws {
        guard !predictions.isEmpty else { throw EvaluationError.invalidInput("no questions to score") }
        count = predictions.count
        accuracy = Double(predictions.filter(\.correct).count) / Double(count)
        accuracyNormalized = Double(predictions.filter(\.correctNormalized).count) / Double(count)
        self.batchSize = batchSize
        self.seconds = seconds
        self.computedTokens = computedTokens
        self.reusedTokens = reusedTokens
        self.predictions = predictions
    }
}
