/// The three FinGPT sentiment classes, and how each benchmark's raw labels map onto them.
public enum SentimentLabel: String, CaseIterable, Codable, Sendable, Comparable {
    case negative, neutral, positive

    /// Index in `allCases` (negative 0, neutral 1, positive 2), used for confusion matrices.
    public var index: Int {
        switch self {
        case .negative: return 0
        case .neutral: return 1
        case .positive: return 2
        }
    }

    public static func < (a: SentimentLabel, b: SentimentLabel) -> Bool { a.index < b.index }

    /// FinGPT's reading of a generated answer: containing "positive" is positive, else containing
    /// "negative" is negative, else neutral (case-insensitive).
    public static func normalize(answer: String) -> SentimentLabel {
        let a = answer.lowercased()
        if a.contains("positive") { return .positive }
        if a.contains("negative") { return .negative }
        return .neutral
    }

    /// A label written as one of the three words (any case, surrounding spaces ignored).
    public init?(word: String) {
        self.init(rawValue: word.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
    }

    /// FiQA-SA's score in [-1, 1]: below -0.1 negative, from 0.1 up positive, else neutral (the
    /// FinGPT benchmark's thresholds).
    public init(fiqaScore s: Double) {
        self = s < -0.1 ? .negative : (s >= 0.1 ? .positive : .neutral)
    }

    /// TFNS's class id: 0 bearish, 1 bullish, 2 neutral.
    public init?(tfnsID id: Int) {
        switch id {
        case 0: self = .negative
        case 1: self = .positive
        case 2: self = .neutral
        default: return nil
        }
    }

    /// NWGI's seven labels as FinGPT maps them: strong and moderately negative/positive keep their
    /// polarity, mildly negative/positive and neutral become neutral.
    public init?(nwgiLabel: String) {
        switch nwgiLabel.trimmingCharacters(in: .whitespaces).lowercased() {
        case "strong negative", "moderately negative": self = .negative
        case "strong positive", "moderately positive": self = .positive
        case "mildly negative", "mildly positive", "neutral": self = .neutral
        default: return nil
        }
    }
}
