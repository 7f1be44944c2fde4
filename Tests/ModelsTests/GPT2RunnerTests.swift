import Models
import Tensor
import TestSupport
import XCTest

final class GPT2RunnerTests: XCTestCase {
    func testCachedGenerationMatchesFullForward() throws {
        let model = try GPT2Model(config: GPT2Config(vocabSize: 23, contextLength: 80, layers: 2, heads: 2, embeddingSize: 16), seed: 2)
        var rng = RandomGenerator(seed: 3)
        let tokens = (0..<70).map { _ in Int32(rng.nextInt(below: 23)) }
        let reference = try model.logits(tokens: tokens, batch: 1, seq: 70).array
        let runner = GPT2Runner(model: model)
        assertAllClose(try runner.forward(Array(tokens[0..<40]), allLogits: true), Array(reference[0..<(40 * 23)]), rtol: 1e-4, atol: 1e-5, "prompt")
        for i in 40..<70 {
            assertAllClose(try runner.forward([tokens[i]]), Array(reference[(i * 23)..<((i + 1) * 23)]), rtol: 1e-4, atol: 1e-5, "step \(i)")
        }
        XCTAssertThrowsError(try runner.forward(Array(repeating: 0, count: 11)))
    }
}
