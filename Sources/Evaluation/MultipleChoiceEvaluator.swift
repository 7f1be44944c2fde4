import Foundation
import Models
import Tokenizers

/// Scores multiple-choice questions by the log-likelihood of each choice's continuation after its
/// context (BoolQ / PIQA / WinoGrande style, as evaluation harnesses do), reusing cached prefixes.
public final class MultipleChoiceEvaluator {
    public let tokenizer: BPETokenizer
    let cache: PrefixCachedModel

    public init(model: CausalLanguageModel, tokenizer: BPETokenizer) throws {
        guard tokenizer.vocabularySize <= model.vocabularySize else {
            throw EvaluationError.invalidInput("the tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(model.vocabularySize)")
        }
        self.tokenizer = tokenizer
        cache = PrefixCachedModel(model: model)
    }

    /// Scores one question: each choice's summed continuation log-probability.
    public func score(_ item: MultipleChoiceItem, index: Int) throws -> MultipleChoicePrediction {
        var scores: [Double] = [], lengths: [Int] = []
        for choice in item.choices {
            let pair = try ContextContinuation(context: choice.context, continuation: choice.continuation, tokenizer: tokenizer, allowSpecial: false)
            scores.append(try cache.logProbabilities(of: pair.continuation, after: pair.context).reduce(0, +))
            lengths.append(pair.continuation.count)
        }
        return MultipleChoicePrediction(index: index, item: item, logLikelihoods: scores, continuationTokens: lengths)
    }

    /// Scores `items` in order; `progress(done, total)` after each.
    public func evaluate(_ items: [MultipleChoiceItem], progress: ((Int, Int) -> Void)? = nil) throws -> MultipleChoiceReport {
        let start = Date()
        let computed0 = cache.computedTokens, reused0 = cache.reusedTokens
        var predictions: [MultipleChoicePrediction] = []
        for (i, item) in items.enumerated() {
            do { predictions.append(try score(item, index: i)) } catch let e as EvaluationError {
                throw EvaluationError.invalidInput("question \(i) (line \(item.line)): \(e)")
            }
            progress?(i + 1, items.count)
        }
        return try MultipleChoiceReport(predictions: predictions, seconds: Date().timeIntervalSince(start),
                                        computedTokens: cache.computedTokens - computed0, reusedTokens: cache.reusedTokens - reused0)
    }
}
