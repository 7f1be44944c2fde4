/// Accuracy of a multiple-choice evaluation (plain and length-normalised), speed, and every
/// question's scores.
public struct MultipleChoiceReport: Codable, Sendable {
    public var count: Int
    public var accuracy: Double
    public var accuracyNormalized: Double
    public var seconds: Double
    public var computedTokens: Int
    public var reusedTokens: Int
    public var predictions: [MultipleChoicePrediction]

    public init(predictions: [MultipleChoicePrediction], seconds: Double, computedTokens: Int, reusedTokens: Int) throws {
        guard !predictions.isEmpty else { throw EvaluationError.invalidInput("no questions to score") }
        count = predictions.count
        accuracy = Double(predictions.filter(\.correct).count) / Double(count)
        accuracyNormalized = Double(predictions.filter(\.correctNormalized).count) / Double(count)
        self.seconds = seconds
        self.computedTokens = computedTokens
        self.reusedTokens = reusedTokens
        self.predictions = predictions
    }
}
