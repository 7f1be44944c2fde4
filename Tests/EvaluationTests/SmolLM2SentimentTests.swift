import Evaluation
import Foundation
import Inference
import Models
import TestSupport
import XCTest

/// The real SmolLM2-135M-Instruct (skipped when the GGUF is absent): label-word scores with cache
/// reuse across examples equal scores from a fresh cache, and the label words tokenize as the
/// single tokens the likelihood mode relies on.
final class SmolLM2SentimentTests: XCTestCase {
    func testCachedLabelScoresEqualFreshScores() throws {
        guard let path = FixturePaths.smolLM2Model else { throw XCTSkip("SmolLM2 GGUF not found (set FINGPT_MODEL)") }
        let loaded = try LanguageModelLoader.load(path: path, maxContext: 256)
        let tok = loaded.tokenizer
        for word in ["negative", "neutral", "positive"] {
            let pair = try ContextContinuation(context: "Answer: ", continuation: word, tokenizer: tok, allowSpecial: false)
            XCTAssertEqual(pair.continuation.count, 1, "' \(word)' is one SmolLM2 token")
        }
        let examples = [
            SentimentExample(instruction: SentimentInstruction.news, input: "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn .", label: .positive, line: 1),
            SentimentExample(instruction: SentimentInstruction.news, input: "The company 's sales fell by 30 % .", label: .negative, line: 2),
        ]
        let evaluator = try SentimentEvaluator(model: loaded.model, tokenizer: tok, options: .init(scoring: .likelihood))
        let report = try evaluator.evaluate(examples)
        XCTAssertGreaterThan(report.reusedTokens, 0)
        for (example, p) in zip(examples, report.predictions) {
            let fresh = PrefixCachedModel(model: loaded.model)  // starts from an empty cache
            for label in SentimentLabel.allCases {
                let pair = try ContextContinuation(context: evaluator.promptText(example), continuation: label.rawValue, tokenizer: tok, allowSpecial: false)
                let want = try fresh.logProbabilities(of: pair.continuation, after: pair.context).reduce(0, +)
                XCTAssertEqual(p.logLikelihoods?[label.rawValue] ?? .nan, want, accuracy: 1e-3, "line \(example.line) \(label)")
            }
        }
    }
}
