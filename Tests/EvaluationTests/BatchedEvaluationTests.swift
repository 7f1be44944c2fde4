import Evaluation
import Foundation
import Models
import Tensor
import TestSupport
import XCTest

/// Batched evaluation (several examples per forward pass) against one example at a time: the same
/// predictions and answers, scores equal to float rounding, for sentiment generation and
/// likelihood scoring and for multiple choice.
final class BatchedEvaluationTests: XCTestCase {
    static let inputs = ["the profit rose", "the shares fell in the quarter", "in line", "the", "positive outlook in the region",
                         "sales in the east fell", "the position", "in the red again", "flat"]

    static func examples() -> [SentimentExample] {
        inputs.enumerated().map { i, input in
            SentimentExample(instruction: i % 4 == 3 ? SentimentInstruction.tweet : SentimentInstruction.news, input: input,
                             label: SentimentLabel.allCases[i % 3], line: i + 1, source: i % 2 == 0 ? "a" : "b")
        }
    }

    func assertSameReports(_ a: SentimentReport, _ b: SentimentReport, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.predictions.count, b.predictions.count, label, file: file, line: line)
        for (p, q) in zip(a.predictions, b.predictions) {
            XCTAssertEqual(p.index, q.index, label, file: file, line: line)
            XCTAssertEqual(p.predicted, q.predicted, "\(label): example \(p.index)", file: file, line: line)
            XCTAssertEqual(p.answer, q.answer, "\(label): example \(p.index)", file: file, line: line)
            XCTAssertEqual(p.promptTokens, q.promptTokens, label, file: file, line: line)
            XCTAssertEqual(p.logLikelihoods?.keys.sorted(), q.logLikelihoods?.keys.sorted(), label, file: file, line: line)
            for (k, v) in p.logLikelihoods ?? [:] {
                XCTAssertEqual(v, q.logLikelihoods?[k] ?? .nan, accuracy: 1e-4, "\(label): example \(p.index) \(k)", file: file, line: line)
            }
        }
        XCTAssertEqual(a.overall, b.overall, label, file: file, line: line)
        XCTAssertEqual(a.generatedTokens, b.generatedTokens, label, file: file, line: line)
    }

    /// With logits that are an exact function of each sequence's tokens, batched evaluation must
    /// give exactly the one-at-a-time predictions, answers and scores: this checks the batched
    /// caching (shared prefix copies, own-cache reuse, per-sequence stopping) with no rounding.
    func testBatchedEvaluationIsExactForAnExactModel() throws {
        let tok = try TinyModels.tokenizer()
        let model = HistoryHashModel(vocabularySize: tok.vocabularySize, endToken: 256)
        for scoring in SentimentScoring.allCases {
            let reference = try SentimentEvaluator(model: model, tokenizer: tok, options: .init(scoring: scoring, maxNewTokens: 8)).evaluate(Self.examples())
            for batchSize in [2, 4, 16] {
                let report = try SentimentEvaluator(model: model, tokenizer: tok, options: .init(scoring: scoring, maxNewTokens: 8, batchSize: batchSize))
                    .evaluate(Self.examples())
                XCTAssertEqual(report.predictions, reference.predictions, "\(scoring) batch \(batchSize)")
                XCTAssertEqual(report.generatedTokens, reference.generatedTokens)
                XCTAssertLessThan(report.computedTokens, reference.computedTokens + reference.reusedTokens, "\(scoring) batch \(batchSize): prefixes reused")
            }
            if scoring == .generate {
                let lengths = Set(reference.predictions.map { tok.encode($0.answer ?? "").count })
                XCTAssertGreaterThan(lengths.count, 2, "answers stop at different lengths: \(lengths)")
            }
        }
        let items = try MultipleChoiceReader.parse("""
        {"context": "in the", "choices": [" positive", " the end", " po"], "label": 1}
        {"contexts": ["the cat", "the dog"], "continuation": " sat in the sun", "label": 0}
        {"context": "the", "choices": [" in", " the thin end of it"], "label": 0}
        {"context": "in the", "choices": [" end", " positive"], "label": 1}
        """, source: "x")
        let reference = try MultipleChoiceEvaluator(model: model, tokenizer: tok).evaluate(items)
        for batchSize in [2, 3] {
            XCTAssertEqual(try MultipleChoiceEvaluator(model: model, tokenizer: tok, batchSize: batchSize).evaluate(items).predictions, reference.predictions)
        }
    }

    func testBatchedSentimentEqualsOneAtATime() throws {
        let tok = try TinyModels.tokenizer()
        let model = try LlamaRunner(model: try TinyModels.llama(vocabulary: tok.vocabularySize, seed: 7))
        let gpt2 = GPT2Runner(model: try GPT2Model(config: GPT2Config(vocabSize: tok.vocabularySize, contextLength: 256, layers: 2, heads: 2,
                                                                        embeddingSize: 16), seed: 9))
        for (name, m) in [("llama", model as CausalLanguageModel), ("gpt-2", gpt2)] {
            for scoring in SentimentScoring.allCases {
                let one = try SentimentEvaluator(model: m, tokenizer: tok, options: .init(scoring: scoring, maxNewTokens: 6))
                let reference = try one.evaluate(Self.examples())
                XCTAssertEqual(reference.batchSize, 1)
                for batchSize in [4, 16] {
                    let batched = try SentimentEvaluator(model: m, tokenizer: tok, options: .init(scoring: scoring, maxNewTokens: 6, batchSize: batchSize))
                    var done: [Int] = []
                    let report = try batched.evaluate(Self.examples()) { i, total in done.append(i); XCTAssertEqual(total, Self.inputs.count) }
                    XCTAssertEqual(done, Array(1...Self.inputs.count))
                    XCTAssertEqual(report.batchSize, batchSize)
                    XCTAssertGreaterThan(report.reusedTokens, 0, "the shared instruction is computed once per batch")
                    assertSameReports(report, reference, "\(name) \(scoring) batch \(batchSize)")
                }
            }
        }
    }

    func testBatchedMultipleChoiceEqualsOneAtATime() throws {
        let tok = try TinyModels.tokenizer()
        let model = try LlamaRunner(model: try TinyModels.llama(vocabulary: tok.vocabularySize, seed: 3))
        let items = try MultipleChoiceReader.parse("""
        {"context": "in the", "choices": [" positive", " the end", " po"], "label": 1}
        {"contexts": ["the cat", "the dog"], "continuation": " sat in the sun", "label": 0}
        {"context": "the", "choices": [" in", " the thin end of it"], "label": 0}
        {"passage": "Rates rose in May.", "question": "did rates rise", "answer": true}
        {"context": "in the", "choices": [" end", " positive"], "label": 1}
        """, source: "x")
        let reference = try MultipleChoiceEvaluator(model: model, tokenizer: tok).evaluate(items)
        for batchSize in [2, 3, 8] {
            let report = try MultipleChoiceEvaluator(model: model, tokenizer: tok, batchSize: batchSize).evaluate(items)
            XCTAssertEqual(report.batchSize, batchSize)
            for (p, q) in zip(report.predictions, reference.predictions) {
                XCTAssertEqual(p.predicted, q.predicted, "batch \(batchSize) question \(p.index)")
                XCTAssertEqual(p.predictedNormalized, q.predictedNormalized)
                XCTAssertEqual(p.continuationTokens, q.continuationTokens)
                XCTAssertEqual(p.logLikelihoods.count, q.logLikelihoods.count)
                for (a, b) in zip(p.logLikelihoods, q.logLikelihoods) { XCTAssertEqual(a, b, accuracy: 1e-4, "batch \(batchSize) question \(p.index)") }
            }
            XCTAssertEqual(report.accuracy, reference.accuracy)
        }
    }

    /// Scores from the batched prefix model equal log-softmax over a full uncached forward pass,
    /// when sequences keep their own cache (the same context again), copy the shared prefix, or
    /// share nothing.
    func testBatchedPrefixModelScoresMatchAFullForwardPass() throws {
        let model = try TinyModels.llama(vocabulary: 270)
        let batch = try BatchedPrefixModel(model: try LlamaRunner(model: model), batchSize: 3)
        XCTAssertEqual(batch.capacity, 3)
        var rng = RandomGenerator(seed: 5)
        let random = { (n: Int) in (0..<n).map { _ in Int32(rng.nextInt(below: 270)) } }
        let shared = random(12)
        let rounds: [[ScoringRequest]] = [
            [.init(context: shared + random(5), continuations: [random(1), random(3)]), .init(context: shared + random(2), continuations: [random(4)]),
             .init(context: shared + random(9), continuations: [random(2), random(1), random(2)]), .init(context: random(4), continuations: [random(2)])],
            [.init(context: random(3), continuations: [random(2)]), .init(context: Array(shared.prefix(5)), continuations: [random(1)])],
        ]
        for requests in rounds {
            let got = try batch.logProbabilities(requests)
            XCTAssertEqual(got.count, requests.count)
            for (r, scores) in zip(requests, got) {
                XCTAssertEqual(scores.count, r.continuations.count)
                for (c, s) in zip(r.continuations, scores) {
                    let want = try TinyModels.referenceLogProbabilities(model: model, tokens: r.context + c, from: r.context.count)
                    XCTAssertEqual(s.count, want.count)
                    for (g, w) in zip(s, want) { XCTAssertEqual(g, w, accuracy: 1e-4) }
                }
            }
        }
        XCTAssertGreaterThan(batch.reusedTokens, 2 * 12, "the shared prefix is copied, not recomputed")
        XCTAssertThrowsError(try batch.logits(after: [[1], [2], [3], [4]])) { XCTAssertTrue("\($0)".contains("exceed the batch"), "\($0)") }
        XCTAssertThrowsError(try batch.logits(after: [[1], []]))
        XCTAssertThrowsError(try batch.logProbabilities([.init(context: [1], continuations: [[]])]))
        XCTAssertThrowsError(try batch.logProbabilities([.init(context: [1], continuations: [[270]])]))
    }

    func testBadBatchSizesThrow() throws {
        let tok = try TinyModels.tokenizer()
        let model = try LlamaRunner(model: try TinyModels.llama(vocabulary: tok.vocabularySize))
        XCTAssertThrowsError(try SentimentEvaluator(model: model, tokenizer: tok, options: .init(batchSize: 0))) {
            XCTAssertEqual("\($0)", "invalid input: batch size must be at least 1, got 0")
        }
        XCTAssertThrowsError(try MultipleChoiceEvaluator(model: model, tokenizer: tok, batchSize: -2))
        XCTAssertThrowsError(try BatchedPrefixModel(model: model, batchSize: 1))
        final class Unbatchable: CausalLanguageModel {
            let vocabularySize = 300, maxContext = 16
            var position = 0
            func reset() { position = 0 }
            func forward(_ tokens: [Int32], allLogits: Bool) throws -> [Float] { [] }
        }
        XCTAssertThrowsError(try SentimentEvaluator(model: Unbatchable(), tokenizer: tok, options: .init(batchSize: 4))) {
            XCTAssertTrue("\($0)".contains("cannot run several sequences per pass"), "\($0)")
        }
        XCTAssertNoThrow(try SentimentEvaluator(model: Unbatchable(), tokenizer: tok, options: .init(batchSize: 1)))
    }
}
