import Evaluation
import Foundation
import Models
import Tensor
import TestSupport
import XCTest

final class LogLikelihoodTests: XCTestCase {
    /// Scores after contexts that share prefixes with what the cache holds (so it truncates and
    /// reuses) equal log-softmax over a full uncached forward pass of the training model.
    func testPrefixCachedScoresMatchAFullForwardPass() throws {
        let model = try TinyModels.llama(vocabulary: 270)
        let cache = PrefixCachedModel(model: try LlamaRunner(model: model))
        var rng = RandomGenerator(seed: 5)
        let random = { (n: Int) in (0..<n).map { _ in Int32(rng.nextInt(below: 270)) } }
        let shared = random(20), a = random(6), b = random(9)
        let cases: [([Int32], [Int32])] = [
            (shared + a, random(3)), (shared + a, random(1)),   // same context: all reused
            (shared + b, random(4)),                           // shares `shared`, rolls back past `a`
            (Array(shared.prefix(7)), random(2)),              // a context inside the cached tokens
            (random(5), random(3)),                            // nothing shared
        ]
        for (i, (context, continuation)) in cases.enumerated() {
            let got = try cache.logProbabilities(of: continuation, after: context)
            let want = try TinyModels.referenceLogProbabilities(model: model, tokens: context + continuation, from: context.count)
            XCTAssertEqual(got.count, want.count)
            for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-4, "case \(i)") }
        }
        // kept from the previous sequence: 0; 26 (the whole context, with its saved logits); 20; 6 (one
        // position is re-fed for its logits); 0
        XCTAssertEqual(cache.reusedTokens, 0 + 26 + 20 + 6 + 0)
        XCTAssertThrowsError(try cache.logProbabilities(of: [], after: shared))
        XCTAssertThrowsError(try cache.logProbabilities(of: [300], after: shared))
        XCTAssertThrowsError(try cache.logits(after: random(513)))
    }

    func testContextContinuationMovesTrailingSpacesIntoTheContinuation() throws {
        let tok = try TinyModels.tokenizer()
        let pair = try ContextContinuation(context: "Answer: ", continuation: "positive", tokenizer: tok, allowSpecial: false)
        XCTAssertEqual(pair.context, tok.encode("Answer:"))
        XCTAssertEqual(pair.continuation, [tok.id(of: "Ġpositive")!], "scored as the single token ' positive'")
        let plain = try ContextContinuation(context: "in", continuation: " the", tokenizer: tok, allowSpecial: false)
        XCTAssertEqual(plain.context, [tok.id(of: "in")!])
        XCTAssertEqual(plain.continuation, [tok.id(of: "Ġthe")!])
        XCTAssertThrowsError(try ContextContinuation(context: "", continuation: "x", tokenizer: tok, allowSpecial: false), "no BOS to condition on")
        XCTAssertThrowsError(try ContextContinuation(context: "a", continuation: "", tokenizer: tok, allowSpecial: false))
    }

    func testGPT2RunnerTruncateRollsBackTheCache() throws {
        let model = try GPT2Model(config: GPT2Config(vocabSize: 23, contextLength: 64, layers: 2, heads: 2, embeddingSize: 16), seed: 2)
        var rng = RandomGenerator(seed: 3)
        let a = (0..<10).map { _ in Int32(rng.nextInt(below: 23)) }, b = (0..<7).map { _ in Int32(rng.nextInt(below: 23)) }
        let c = (0..<5).map { _ in Int32(rng.nextInt(below: 23)) }
        let runner = GPT2Runner(model: model)
        _ = try runner.forward(a + b, allLogits: false)
        runner.truncate(to: a.count)
        XCTAssertEqual(runner.position, a.count)
        let got = try runner.forward(c, allLogits: true)
        let want = try model.logits(tokens: a + c, batch: 1, seq: a.count + c.count).array
        assertAllClose(got, Array(want[(a.count * 23)...]), rtol: 1e-4, atol: 1e-5)
    }

    /// A model without its own rollback gets the protocol's default: reset to 0 works, rolling back
    /// part of the cache is refused with an error rather than giving wrong scores.
    func testDefaultTruncateOnlyResets() throws {
        final class NoRollback: CausalLanguageModel {
            let vocabularySize = 4, maxContext = 16
            var position = 0
            func reset() { position = 0 }
            func forward(_ tokens: [Int32], allLogits: Bool) throws -> [Float] {
                position += tokens.count
                return [Float](repeating: 0, count: (allLogits ? tokens.count : 1) * 4)
            }
        }
        let m = NoRollback()
        _ = try m.forward([1, 2, 3], allLogits: false)
        XCTAssertNoThrow(try m.truncate(to: 3))
        XCTAssertThrowsError(try m.truncate(to: 2))
        try m.truncate(to: 0)
        XCTAssertEqual(m.position, 0)
        // uniform logits: each token has log-probability log(1/4); the rollback failure surfaces
        let cache = PrefixCachedModel(model: m)
        XCTAssertEqual(try cache.logProbabilities(of: [1, 2], after: [0, 1])[1], -Foundation.log(4.0), accuracy: 1e-6)
        XCTAssertThrowsError(try cache.logProbabilities(of: [3], after: [0, 2]))
    }

    func testSentimentLikelihoodScoringMatchesDirectForward() throws {
        let tok = try TinyModels.tokenizer()
        let model = try TinyModels.llama(vocabulary: tok.vocabularySize)
        let examples = [
            SentimentExample(instruction: "Rate the news.", input: "the profit rose", label: .positive, line: 1, source: "a"),
            SentimentExample(instruction: "Rate the news.", input: "in the red", label: .negative, line: 2, source: "a"),
            SentimentExample(instruction: "Rate the tweet.", input: "flat", label: .neutral, line: 3, source: "b"),
        ]
        let evaluator = try SentimentEvaluator(model: try LlamaRunner(model: model), tokenizer: tok, options: .init(scoring: .likelihood))
        let report = try evaluator.evaluate(examples)
        XCTAssertGreaterThan(report.reusedTokens, 0)
        var gold: [Int] = [], predicted: [Int] = []
        for (example, p) in zip(examples, report.predictions) {
            var best = (label: SentimentLabel.negative, score: -Double.infinity)
            for label in SentimentLabel.allCases {
                let pair = try ContextContinuation(context: evaluator.promptText(example), continuation: label.rawValue, tokenizer: tok, allowSpecial: false)
                let want = try TinyModels.referenceLogProbabilities(model: model, tokens: pair.context + pair.continuation, from: pair.context.count).reduce(0, +)
                XCTAssertEqual(p.logLikelihoods?[label.rawValue] ?? .nan, want, accuracy: 1e-3, "line \(example.line) \(label)")
                if want > best.score { best = (label, want) }
            }
            XCTAssertEqual(p.predicted, best.label)
            gold.append(example.label.index)
            predicted.append(best.label.index)
        }
        let metrics = try ClassificationMetrics(labels: SentimentLabel.allCases.map(\.rawValue), gold: gold, predicted: predicted)
        XCTAssertEqual(report.overall, metrics)
        XCTAssertEqual(Set(report.perSource.keys), ["a", "b"])
        XCTAssertEqual(report.perSource["a"]?.count, 2)
    }

    /// Greedy answers from the cached evaluator equal greedy decoding with a full forward pass per
    /// step, under the same stopping rules (end token, a line break after text, the token limit).
    func testSentimentGenerationMatchesUncachedGreedyDecoding() throws {
        let tok = try TinyModels.tokenizer()
        let model = try TinyModels.llama(vocabulary: tok.vocabularySize, seed: 7)
        let examples = ["the shares rose", "the shares fell", "in line"].enumerated().map {
            SentimentExample(instruction: SentimentInstruction.news, input: $1, label: .neutral, line: $0 + 1)
        }
        let options = SentimentEvaluator.Options(scoring: .generate, maxNewTokens: 5)
        let evaluator = try SentimentEvaluator(model: try LlamaRunner(model: model), tokenizer: tok, options: options)
        let report = try evaluator.evaluate(examples)
        let v = tok.vocabularySize
        var generated = 0
        for (example, p) in zip(examples, report.predictions) {
            var tokens = tok.encode(evaluator.promptText(example), allowSpecial: false)
            var answer: [Int32] = []
            while answer.count < 5 {
                let logits = try model.logits(tokens: tokens, batch: 1, seq: tokens.count).array
                let last = Array(logits[((tokens.count - 1) * v)...])
                let next = Int32(last.indices.max { last[$0] < last[$1] }!)
                if next == 256 { break }
                answer.append(next)
                tokens.append(next)
                let text = tok.decode(answer, skipSpecial: true)
                if let nl = text.firstIndex(of: "\n"), !text[..<nl].allSatisfy(\.isWhitespace) { break }
            }
            XCTAssertEqual(p.answer, tok.decode(answer, skipSpecial: true), "line \(example.line)")
            XCTAssertEqual(p.predicted, SentimentLabel.normalize(answer: p.answer ?? ""))
            generated += answer.count
        }
        XCTAssertEqual(report.generatedTokens, generated)
        XCTAssertGreaterThan(generated, 0)
    }
}
