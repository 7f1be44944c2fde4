/// The outcome of a sentiment evaluation: metrics overall and per dataset, speed, and every
/// example's prediction.
public struct SentimentReport: Codable, Sendable {
    public var scoring: SentimentScoring
    public var chatTemplate: Bool
    /// Examples run through the model together.
    public var batchSize: Int
    public var count: Int
    public var seconds: Double
    public var examplesPerSecond: Double
    /// Prompt and answer positions the model computed, positions reused from its cache, and
    /// tokens generated (generate scoring).
    public var computedTokens: Int
    public var reusedTokens: Int
    public var generatedTokens: Int
    public var overall: ClassificationMetrics
    /// Metrics per example `source` (the dataset), when the examples name one.
    public var perSource: [String: ClassificationMetrics]
    public var predictions: [SentimentPrediction]

    public init(scoring: SentimentScoring, chatTemplate: Bool, batchSize: Int = 1, seconds: Double, computedTokens: Int, reusedTokens: Int,
                generatedTokens: Int, predictions: [SentimentPrediction]) throws {
        self.scoring = scoring
        self.chatTemplate = chatTemplate
        self.batchSize = batchSize
        self.count = predictions.count
        self.seconds = seconds
        self.examplesPerSecond = seconds > 0 ? Double(predictions.count) / seconds : 0
        self.computedTokens = computedTokens
        self.reusedTokens = reusedTokens
        self.generatedTokens = generatedTokens
        self.predictions = predictions
        overall = try SentimentReport.metrics(predictions)
        let named = predictions.filter { $0.source != nil }
        perSource = try Dictionary(grouping: named) { $0.source ?? "" }.mapValues(SentimentReport.metrics)
    }

    /// Metrics over the three labels (negative, neutral, positive).
    public static func metrics(_ predictions: [SentimentPrediction]) throws -> ClassificationMetrics {
        try ClassificationMetrics(labels: SentimentLabel.allCases.map(\.rawValue),
                                  gold: predictions.map(\.gold.index), predicted: predictions.map(\.predicted.index))
    }
}
