import Foundation
import Models
import Tokenizers

/// Scores multiple-choice questions by the log-likelihood of each choice's continuation after its
/// context (BoolQ / PIQA / WinoGrande style, as evaluation harnesses do), reusing cached prefixes.
/// With a batch size above 1, the contexts of that many questions go through the model together
/// (`BatchedPrefixModel`); the scores agree with one-at-a-time scoring to float rounding, and are bit
/// for bit the same when the model is batch-invariant (`LlamaRunner.batchInvariant`).
public final class MultipleChoiceEvaluator {
    public let tokenizer: BPETokenizer
    /// Questions scored together (1: one after another on the model's own cache).
    public let batchSize: Int
    let cache: PrefixCachedModel
    let batch: BatchedPrefixModel?

    public init(model: CausalLanguageModel, tokenizer: BPETokenizer, batchSize: Int = 1) throws {
        guard batchSize >= 1 else { throw EvaluationError.invalidInput("batch size must be at least 1, got \(batchSize)") }
        guard tokenizer.vocabularySize <= model.vocabularySize else {
            throw EvaluationError.invalidInput("the tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(model.vocabularySize)")
        }
        self.tokenizer = tokenizer
        self.batchSize = batchSize
        cache = PrefixCachedModel(model: model)
        batch = batchSize > 1 ? try BatchedPrefixModel(model: model, batchSize: batchSize) : nil
    }

    /// Scores one question: each choice's summed continuation log-probability.
    public func score(_ item: MultipleChoiceItem, index: Int) throws -> MultipleChoicePrediction {
        var scores: [Double] = [], lengths: [Int] = []
        for pair in try pairs(item) {
            scores.append(try cache.logProbabilities(of: pair.continuation, after: pair.context).reduce(0, +))
            lengths.append(pair.continuation.count)
        }
        return MultipleChoicePrediction(index: index, item: item, logLikelihoods: scores, continuationTokens: lengths)
    }

    /// Scores `items` in order (`batchSize` at a time); `progress(done, total)` after each.
    public func evaluate(_ items: [MultipleChoiceItem], progress: ((Int, Int) -> Void)? = nil) throws -> MultipleChoiceReport {
        let start = Date()
        let (computed0, reused0) = tokenCounts
        var predictions: [MultipleChoicePrediction] = []
        predictions.reserveCapacity(items.count)
        for first in stride(from: 0, to: items.count, by: batchSize) {
            let range = first..<min(items.count, first + batchSize)
            if let batch {
                predictions += try score(items, range, on: batch)
            } else {
                predictions.append(try located(items[first], index: first) { try score(items[first], index: first) })
            }
            for i in range { progress?(i + 1, items.count) }
        }
        let (computed, reused) = tokenCounts
        return try MultipleChoiceReport(predictions: predictions, batchSize: batchSize, seconds: Date().timeIntervalSince(start),
                                        computedTokens: computed - computed0, reusedTokens: reused - reused0)
    }

    /// Scores `items[range]` through the batched model: choices that share a context are one request.
    func score(_ items: [MultipleChoiceItem], _ range: Range<Int>, on batch: BatchedPrefixModel) throws -> [MultipleChoicePrediction] {
        var groups: [(pairs: [ContextContinuation], requests: [ScoringRequest], indices: [(request: Int, continuation: Int)])] = []
        for i in range {
            let pairs = try located(items[i], index: i) { try self.pairs(items[i]) }
            let (requests, indices) = ScoringRequest.grouping(pairs)
            groups.append((pairs, requests, indices))
        }
        let logProbabilities = try batch.logProbabilities(groups.flatMap(\.requests))
        var first = 0
        return zip(range, groups).map { i, group in
            defer { first += group.requests.count }
            let scores = group.indices.map { logProbabilities[first + $0.request][$0.continuation].reduce(0, +) }
            return MultipleChoicePrediction(index: i, item: items[i], logLikelihoods: scores, continuationTokens: group.pairs.map(\.continuation.count))
        }
    }

    /// Each choice's context and continuation as tokens.
    func pairs(_ item: MultipleChoiceItem) throws -> [ContextContinuation] {
        try item.choices.map { try ContextContinuation(context: $0.context, continuation: $0.continuation, tokenizer: tokenizer, allowSpecial: false) }
    }

    /// Positions computed and reused so far by the model in use.
    var tokenCounts: (computed: Int, reused: Int) {
        if let batch { return (batch.computedTokens, batch.reusedTokens) }
        return (cache.computedTokens, cache.reusedTokens)
    }

    /// `body`'s result, its evaluation errors prefixed with the question they concern.
    func located<T>(_ item: MultipleChoiceItem, index: Int, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as EvaluationError {
            throw EvaluationError.invalidInput("question \(index) (line \(item.line)): \(e)")
        }
    }
}
