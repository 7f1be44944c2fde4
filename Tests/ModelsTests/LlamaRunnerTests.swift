import Foundation
import Models
import Tensor
import TestSupport
import XCTest

final class LlamaRunnerTests: XCTestCase {
    let cfg = LlamaConfig(vocabSize: 17, hiddenSize: 16, intermediateSize: 24, layers: 2, heads: 4, kvHeads: 2,
                          contextLength: 80, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: false)

    func testRunnerMatchesTrainingForwardAndCacheIsIncremental() throws {
        let model = try LlamaModel(config: cfg, seed: 7)
        var rng = RandomGenerator(seed: 8)
        for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: 0.3) }
        let tokens = (0..<70).map { _ in Int32(rng.nextInt(below: 17)) }
        let reference = try model.logits(tokens: tokens, batch: 1, seq: 70)
        let runner = try LlamaRunner(model: model)
        // whole prompt at once, all positions
        let all = try runner.forward(tokens, allLogits: true)
        assertAllClose(all, reference.array, rtol: 1e-4, atol: 1e-4, "prompt logits")
        // the same in chunks of 16 positions
        runner.reset()
        runner.maxChunk = 16
        assertAllClose(try runner.forward(tokens, allLogits: true), reference.array, rtol: 1e-4, atol: 1e-4, "chunked prompt logits")
        runner.reset()
        assertAllClose(try runner.forward(tokens), Array(reference.array[(69 * 17)...]), rtol: 1e-4, atol: 1e-4, "chunked prompt, last logits")
        // prefix, then one token at a time, against the same positions (cached positions split over
        // threads, as for long contexts)
        runner.attention.parallelWork = 0
        runner.reset()
        _ = try runner.forward(Array(tokens[0..<50]))
        for i in 50..<70 {
            let step = try runner.forward([tokens[i]])
            assertAllClose(step, Array(reference.array[(i * 17)..<((i + 1) * 17)]), rtol: 1e-4, atol: 1e-4, "cached step \(i)")
        }
        XCTAssertEqual(runner.position, 70)
        XCTAssertThrowsError(try runner.forward(Array(repeating: 1, count: 11))) { XCTAssertTrue("\($0)".contains("context full")) }
        runner.truncate(to: 50)
        let again = try runner.forward([tokens[50]])
        assertAllClose(again, Array(reference.array[(50 * 17)..<(51 * 17)]), rtol: 1e-4, atol: 1e-4, "after truncate")
    }
}
