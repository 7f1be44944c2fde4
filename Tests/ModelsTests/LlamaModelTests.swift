import Foundation
import Models
import Tensor
import TestSupport
import XCTest

final class LlamaModelTests: XCTestCase {
    let tiny = LlamaConfig(vocabSize: 13, hiddenSize: 8, intermediateSize: 12, layers: 2, heads: 4, kvHeads: 2,
                           contextLength: 8, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true)

    func batch(_ rng: inout RandomGenerator, n: Int, vocab: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.nextInt(below: vocab)) } }

    func testWholeModelGradientsMatchFiniteDifferences() throws {
        for tied in [true, false] {
            var cfg = tiny
            cfg.tieWordEmbeddings = tied
            let model = try LlamaModel(config: cfg, seed: 3)
            // larger weights than the 0.02 init so that every path carries signal
            var rng = RandomGenerator(seed: 4)
            for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: 0.3) }
            for e in model.parameters.entries where e.shape.count == 1 { rng.fillUniform(model.parameters[e.name].buffer, low: 0.5, high: 1.5) }
            let (b, t) = (2, 6)
            let tokens = batch(&rng, n: b * t, vocab: cfg.vocabSize)
            var targets = batch(&rng, n: b * t, vocab: cfg.vocabSize)
            targets[3] = -1
            model.zeroGradients()
            _ = try model.forwardBackward(tokens: tokens, targets: targets, batch: b, seq: t, gradScale: 1)
            let f: () -> Double = { (try? model.loss(tokens: tokens, targets: targets, batch: b, seq: t).lossSum) ?? .nan }
            for e in model.parameters.entries {
                let idx = GradientCheck.sampleIndices(count: e.count, max: 12, rng: &rng)
                let numeric = GradientCheck.numeric(f, at: model.parameters.pointer(e.name), count: e.count, indices: idx, eps: 2e-3)
                GradientCheck.assertMatches(model.gradients.pointer(e.name), numeric, rtol: 3e-2, atol: 3e-3, "\(e.name) tied=\(tied)")
            }
        }
    }

    func testRecomputationGivesIdenticalGradients() throws {
        let model = try LlamaModel(config: tiny, seed: 5)
        var rng = RandomGenerator(seed: 6)
        let tokens = batch(&rng, n: 16, vocab: 13), targets = batch(&rng, n: 16, vocab: 13)
        model.zeroGradients()
        let r1 = try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 8, gradScale: 1 / 16)
        let stored = model.gradients.buffer.buffer.map { $0 }
        model.recompute = true
        model.zeroGradients()
        let r2 = try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 8, gradScale: 1 / 16)
        XCTAssertEqual(r1.lossSum, r2.lossSum)
        XCTAssertEqual(model.gradients.buffer.buffer.map { $0 }, stored, "bit-identical")
    }

    func testConfigFromHuggingFaceJSONAndValidation() throws {
        let json = """
        {"architectures": ["LlamaForCausalLM"], "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
         "num_attention_heads": 9, "num_key_value_heads": 3, "max_position_embeddings": 8192, "rms_norm_eps": 1e-05,
         "rope_theta": 100000, "tie_word_embeddings": true, "vocab_size": 49152, "model_type": "llama"}
        """
        let cfg = try JSONDecoder().decode(LlamaConfig.self, from: Data(json.utf8))
        XCTAssertEqual(cfg, LlamaConfig.smolLM2_135M)
        XCTAssertEqual(cfg.parameterCount, 134_515_008)
        var bad = cfg
        bad.kvHeads = 4
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("multiple of num_key_value_heads")) }
        XCTAssertThrowsError(try LlamaModel(config: bad))
        XCTAssertThrowsError(try LlamaModel(config: tiny).logits(tokens: [1, 2, 99], batch: 1, seq: 3)) { XCTAssertTrue("\($0)".contains("outside the vocabulary")) }
    }
}
