/// How a sentiment answer is obtained from a model.
public enum SentimentScoring: String, Codable, CaseIterable, Sendable {
    /// Greedy decoding of a short answer, read by `SentimentLabel.normalize(answer:)` (FinGPT's protocol).
    case generate
    /// The label word whose continuation of the prompt has the highest log-likelihood (no parsing).
    case likelihood
}
