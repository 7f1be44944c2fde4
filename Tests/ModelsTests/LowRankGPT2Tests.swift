import Foundation
import Models
import NN
import Tensor
import TestSupport
import XCTest

final class LowRankGPT2Tests: XCTestCase {
    let base = GPT2Config(vocabSize: 11, contextLength: 8, layers: 2, heads: 2, embeddingSize: 8)

    func testFactorisedModelGradientsMatchFiniteDifferences() throws {
        let cfg = try base.withLowRank(try LowRankPlan(parsing: "qkv=4,attn_out=0.5,mlp_up=3,mlp_down=dense"))
        XCTAssertEqual(cfg.lowRankRanks["transformer.h.1.attn.c_attn"], 4)
        XCTAssertEqual(cfg.lowRankRanks["transformer.h.0.attn.c_proj"], 4)
        XCTAssertNil(cfg.lowRankRanks["transformer.h.0.mlp.c_proj"])
        for recompute in [false, true] {
            let model = try GPT2Model(config: cfg, seed: 1, recompute: recompute)
            XCTAssertEqual(model.parameters.parameterCount, cfg.parameterCount)
            XCTAssertTrue(model.parameters.contains("transformer.h.0.mlp.c_fc.A.weight"))
            var rng = RandomGenerator(seed: 2)
            for e in model.parameters.entries { rng.fillNormal(model.parameters[e.name].buffer, std: 0.3) }
            let tokens = (0..<12).map { _ in Int32(rng.nextInt(below: 11)) }, targets = (0..<12).map { _ in Int32(rng.nextInt(below: 11)) }
            model.zeroGradients()
            _ = try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 6, gradScale: 1)
            let f: () -> Double = { (try? model.loss(tokens: tokens, targets: targets, batch: 2, seq: 6).lossSum) ?? .nan }
            for e in model.parameters.entries where e.name.contains(".A.") || e.name.contains(".B.") || e.name.hasSuffix("c_attn.bias") {
                let idx = GradientCheck.sampleIndices(count: e.count, max: 8, rng: &rng)
                GradientCheck.assertMatches(model.gradients.pointer(e.name), GradientCheck.numeric(f, at: model.parameters.pointer(e.name), count: e.count, indices: idx, eps: 2e-3),
                                            rtol: 3e-2, atol: 3e-3, "\(e.name) recompute=\(recompute)")
            }
        }
    }

    func testFactorisedProductEqualsDenseLayerAndBadRanksAreRefused() throws {
        // a factorised model whose B A equals the dense weights gives the dense model's logits
        let dense = try GPT2Model(config: base, seed: 5)
        var cfg = base
        cfg.lowRankRanks = ["transformer.h.0.mlp.c_fc": 8] // full rank of a [32, 8] layer
        let factorised = try GPT2Model(config: cfg)
        for e in factorised.parameters.entries where dense.parameters.contains(e.name) {
            factorised.parameters.pointer(e.name).update(from: dense.parameters.pointer(e.name), count: e.count)
        }
        // A = I (8 x 8), B = W
        let a = factorised.parameters["transformer.h.0.mlp.c_fc.A.weight"]
        for i in 0..<8 { a[i * 8 + i] = 1 }
        factorised.parameters.pointer("transformer.h.0.mlp.c_fc.B.weight").update(from: dense.parameters.pointer("transformer.h.0.mlp.c_fc.weight"), count: 32 * 8)
        let tokens: [Int32] = [1, 4, 2, 9, 0, 3]
        assertAllClose(try factorised.logits(tokens: tokens, batch: 1, seq: 6).array, try dense.logits(tokens: tokens, batch: 1, seq: 6).array,
                       rtol: 1e-5, atol: 1e-6, "full-rank factorisation")
        cfg.lowRankRanks = ["transformer.h.0.mlp.c_fc": 9]
        XCTAssertThrowsError(try GPT2Model(config: cfg)) { XCTAssertTrue("\($0)".contains("must be in 1...8"), "\($0)") }
        cfg.lowRankRanks = ["transformer.h.0.mlp.c_fc": 0]
        XCTAssertThrowsError(try GPT2Model(config: cfg))
        cfg.lowRankRanks = ["transformer.h.7.mlp.c_fc": 2]
        XCTAssertThrowsError(try GPT2Model(config: cfg)) { XCTAssertTrue("\($0)".contains("not a linear module"), "\($0)") }
        XCTAssertThrowsError(try base.withLowRank(try LowRankPlan(parsing: "qkv=0"))) 
        // the config (with ranks) round-trips through JSON
        cfg.lowRankRanks = ["transformer.h.1.attn.c_attn": 3]
        XCTAssertEqual(try JSONDecoder().decode(GPT2Config.self, from: JSONEncoder().encode(cfg)), cfg)
        XCTAssertLessThan(cfg.parameterCount, base.parameterCount)
    }
}
