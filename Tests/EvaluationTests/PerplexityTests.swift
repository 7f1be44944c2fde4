import Evaluation
import Foundation
import Models
import Tensor
import TestSupport
import XCTest

final class PerplexityTests: XCTestCase {
    func testSlidingWindowScoresEveryTokenOnceAndMatchesDirectLoss() throws {
        let cfg = LlamaConfig(vocabSize: 19, hiddenSize: 16, intermediateSize: 24, layers: 2, heads: 4, kvHeads: 2, contextLength: 32)
        let model = try LlamaModel(config: cfg, seed: 1)
        var rng = RandomGenerator(seed: 2)
        for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: 0.3) }
        let tokens = (0..<30).map { _ in Int32(rng.nextInt(below: 19)) }
        let runner = try LlamaRunner(model: model)
        // one window covering everything = the model's own mean loss
        let whole = try Perplexity.evaluate(model: runner, tokens: tokens, window: 30, stride: 30)
        let direct = try model.loss(tokens: Array(tokens[0..<29]), targets: Array(tokens[1..<30]), batch: 1, seq: 29)
        XCTAssertEqual(whole.scored, 29)
        XCTAssertEqual(whole.meanNLL, direct.lossSum / 29, accuracy: 1e-5)
        // sliding windows: every target scored once; each window's scores equal the direct loss over
        // the same context
        let sliding = try Perplexity.evaluate(model: runner, tokens: tokens, window: 12, stride: 5)
        XCTAssertEqual(sliding.scored, 29)
        XCTAssertEqual(sliding.windows.map(\.begin), [0, 5, 10, 15, 20])
        var expected = 0.0
        var prevEnd = 0
        for w in sliding.windows {
            var targets = Array(tokens[(w.begin + 1)..<w.end])
            for i in 0..<targets.count where w.begin + 1 + i < max(prevEnd, w.begin + 1) { targets[i] = -1 }
            expected += try model.loss(tokens: Array(tokens[w.begin..<(w.end - 1)]), targets: targets, batch: 1, seq: w.end - 1 - w.begin).lossSum
            prevEnd = w.end
        }
        XCTAssertEqual(sliding.nll, expected, accuracy: 1e-3)
        XCTAssertThrowsError(try Perplexity.evaluate(model: runner, tokens: tokens, window: 64, stride: 8))
        XCTAssertThrowsError(try Perplexity.evaluate(model: runner, tokens: [1], window: 8, stride: 8))
    }
}
