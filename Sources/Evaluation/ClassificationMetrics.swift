/// Accuracy, per-class precision/recall/F1, F1 averages and the confusion matrix of a single-label
/// classification, computed as scikit-learn does: averages run over the classes present in the
/// gold labels or the predictions; a ratio with a zero denominator counts as 0 (so a class never
/// predicted has precision 0 and F1 0).
public struct ClassificationMetrics: Codable, Equatable, Sendable {
    public struct PerClass: Codable, Equatable, Sendable {
        public var label: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        /// Gold examples of this class.
        public var support: Int
        /// Examples predicted as this class.
        public var predicted: Int
    }

    public var labels: [String]
    public var count: Int
    public var accuracy: Double
    public var f1Macro: Double
    public var f1Micro: Double
    public var f1Weighted: Double
    public var perClass: [PerClass]
    /// `confusion[gold][predicted]`, over all `labels` (classes absent from both still get a row).
    public var confusion: [[Int]]

    /// `gold` and `predicted` are indices into `labels`.
    public init(labels: [String], gold: [Int], predicted: [Int]) throws {
        guard gold.count == predicted.count else {
            throw EvaluationError.invalidInput("\(gold.count) gold labels but \(predicted.count) predictions")
        }
        guard !gold.isEmpty else { throw EvaluationError.invalidInput("no examples to score") }
        let k = labels.count
        for i in gold + predicted where i < 0 || i >= k {
            throw EvaluationError.invalidInput("class index \(i) outside 0..<\(k)")
        }
        var confusion = Array(repeating: Array(repeating: 0, count: k), count: k)
        for (g, p) in zip(gold, predicted) { confusion[g][p] += 1 }
        let n = gold.count
        let ratio: (Int, Int) -> Double = { $1 == 0 ? 0 : Double($0) / Double($1) }
        var perClass: [PerClass] = []
        var correct = 0
        for c in 0..<k {
            let tp = confusion[c][c]
            let support = confusion[c].reduce(0, +)
            let predictedCount = confusion.reduce(0) { $0 + $1[c] }
            correct += tp
            let p = ratio(tp, predictedCount), r = ratio(tp, support)
            perClass.append(PerClass(label: labels[c], precision: p, recall: r, f1: ratio(2 * tp, support + predictedCount),
                                     support: support, predicted: predictedCount))
        }
        let present = perClass.filter { $0.support > 0 || $0.predicted > 0 }
        self.labels = labels
        self.count = n
        self.accuracy = Double(correct) / Double(n)
        // micro F1: pooled tp / (tp + (fp + fn) / 2); every error is one fp and one fn, so it is accuracy
        self.f1Micro = ratio(2 * correct, 2 * n)
        self.f1Macro = present.map(\.f1).reduce(0, +) / Double(present.count)
        self.f1Weighted = present.reduce(0) { $0 + $1.f1 * Double($1.support) } / Double(n)
        self.perClass = perClass
        self.confusion = confusion
    }
}
