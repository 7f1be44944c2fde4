import Foundation
import Models
import NN
import Tensor
import TestSupport
import XCTest

final class LowRankLlamaTests: XCTestCase {
    let base = LlamaConfig(vocabSize: 13, hiddenSize: 8, intermediateSize: 12, layers: 2, heads: 4, kvHeads: 2,
                           contextLength: 16, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: false)

    func testFactorisedModelGradientsMatchFiniteDifferences() throws {
        let cfg = try base.withLowRank(try LowRankPlan(parsing: "qkv=3,attn_out=0.5,mlp_up=2,mlp_down=dense"))
        XCTAssertEqual(cfg.lowRankRanks["model.layers.1.self_attn.k_proj"], 3)
        XCTAssertEqual(cfg.lowRankRanks["model.layers.0.self_attn.o_proj"], 4)
        XCTAssertEqual(cfg.lowRankRanks["model.layers.0.mlp.gate_proj"], 2)
        XCTAssertNil(cfg.lowRankRanks["model.layers.0.mlp.down_proj"])
        for recompute in [false, true] {
            let model = try LlamaModel(config: cfg, seed: 1, recompute: recompute)
            XCTAssertEqual(model.parameters.parameterCount, cfg.parameterCount)
            XCTAssertTrue(model.parameters.contains("model.layers.0.mlp.up_proj.A.weight"))
            XCTAssertFalse(model.parameters.contains("model.layers.0.mlp.up_proj.weight"))
            var rng = RandomGenerator(seed: 2)
            for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: 0.4) }
            let tokens = (0..<12).map { _ in Int32(rng.nextInt(below: 13)) }, targets = (0..<12).map { _ in Int32(rng.nextInt(below: 13)) }
            model.zeroGradients()
            _ = try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 6, gradScale: 1)
            let f: () -> Double = { (try? model.loss(tokens: tokens, targets: targets, batch: 2, seq: 6).lossSum) ?? .nan }
            for e in model.parameters.entries where e.name.contains(".A.") || e.name.contains(".B.") || e.name.hasSuffix("down_proj.weight") {
                let idx = GradientCheck.sampleIndices(count: e.count, max: 6, rng: &rng)
                GradientCheck.assertMatches(model.gradients.pointer(e.name), GradientCheck.numeric(f, at: model.parameters.pointer(e.name), count: e.count, indices: idx, eps: 2e-3),
                                            rtol: 3e-2, atol: 3e-3, "\(e.name) recompute=\(recompute)")
            }
        }
    }

    func testFullRankSVDReproducesDenseLogitsAndMergeInverts() throws {
        let dense = try LlamaModel(config: base, seed: 5)
        var rng = RandomGenerator(seed: 6)
        for e in dense.parameters.entries where e.shape.count == 2 { rng.fillNormal(dense.parameters[e.name].buffer, std: 0.3) }
        let tokens = (0..<10).map { _ in Int32(rng.nextInt(below: 13)) }
        let reference = try dense.logits(tokens: tokens, batch: 1, seq: 10).array
        let (full, report) = try LowRankFactorizer.factorize(dense, plan: try LowRankPlan(uniform: .fraction(1)))
        XCTAssertEqual(report.count, 14)
        XCTAssertEqual(full.config.lowRankRanks.count, 14)
        for r in report { XCTAssertEqual(r.energyKept, 1, accuracy: 1e-5); XCTAssertLessThan(r.relativeError, 1e-5) }
        assertAllClose(try full.logits(tokens: tokens, batch: 1, seq: 10).array, reference, rtol: 1e-4, atol: 1e-4, "full-rank factorised logits")
        // the runner generates from the factors directly (stacked q/k/v of low-rank maps) and agrees
        let runner = try LlamaRunner(model: full)
        assertAllClose(try runner.forward(tokens, allLogits: true), reference, rtol: 1e-4, atol: 1e-4, "runner on factors, prompt")
        runner.reset()
        _ = try runner.forward(Array(tokens[0..<6]))
        for i in 6..<10 {
            assertAllClose(try runner.forward([tokens[i]]), Array(reference[(i * 13)..<((i + 1) * 13)]), rtol: 1e-4, atol: 1e-4, "runner step \(i)")
        }
        let merged = try LowRankFactorizer.merge(full)
        XCTAssertTrue(merged.config.lowRankRanks.isEmpty)
        assertAllClose(try merged.logits(tokens: tokens, batch: 1, seq: 10).array, reference, rtol: 1e-4, atol: 1e-4, "merged")
        // energy thresholds: each layer keeps at least that fraction, with the smallest such rank
        let (e90, r90) = try LowRankFactorizer.factorize(dense, plan: try LowRankPlan(uniform: try RankSpec(parsing: "e0.9")))
        for r in r90 where r.rank != nil {
            XCTAssertGreaterThanOrEqual(r.energyKept, 0.9 - 1e-6, r.module)
            XCTAssertEqual(r.relativeError, (1 - r.energyKept).squareRoot(), accuracy: 1e-3, "error = tail energy, \(r.module)")
        }
        let linear = r90.reduce(0) { $0 + $1.parametersAfter }
        XCTAssertEqual(e90.config.linearParameterCount, linear, "the report's parameters are the model's")
    }

    func testBadRanksAreRefusedAndConfigRoundTrips() throws {
        var cfg = base
        cfg.lowRankRanks = ["model.layers.0.self_attn.k_proj": 5] // k_proj is [4, 8]
        XCTAssertThrowsError(try LlamaModel(config: cfg)) { XCTAssertTrue("\($0)".contains("must be in 1...4"), "\($0)") }
        cfg.lowRankRanks = ["model.layers.0.mlp.up_proj": 0]
        XCTAssertThrowsError(try LlamaModel(config: cfg)) { XCTAssertTrue("\($0)".contains("must be in 1..."), "\($0)") }
        cfg.lowRankRanks = ["model.layers.9.mlp.up_proj": 2]
        XCTAssertThrowsError(try LlamaModel(config: cfg)) { XCTAssertTrue("\($0)".contains("not a linear module"), "\($0)") }
        XCTAssertThrowsError(try base.withLowRank(try LowRankPlan(parsing: "mlp_up=13"))) { XCTAssertTrue("\($0)".contains("13"), "\($0)") }
        cfg.lowRankRanks = ["model.layers.1.mlp.down_proj": 3]
        let json = try JSONEncoder().encode(cfg)
        XCTAssertEqual(try JSONDecoder().decode(LlamaConfig.self, from: json), cfg)
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(base), as: UTF8.self).contains("low_rank"), "dense configs stay plain HF config.json")
        let generic = try ModelConfiguration(architecture: "llama", json: json, source: "test")
        XCTAssertEqual(generic, .llama(cfg))
        XCTAssertThrowsError(try ModelConfiguration(architecture: "mamba", json: json, source: "x.json")) {
            XCTAssertTrue("\($0)".contains("unknown architecture 'mamba'"), "\($0)")
        }
    }

    func testLowRankInitialisationKeepsTheDenseOutputScale() throws {
        // from scratch: the product B A has the dense init's output variance (std 0.02 per weight)
        let big = LlamaConfig(vocabSize: 64, hiddenSize: 256, intermediateSize: 512, layers: 1, heads: 4, kvHeads: 4, contextLength: 8)
        let cfg = try big.withLowRank(try LowRankPlan(uniform: .absolute(64)))
        let model = try LlamaModel(config: cfg, seed: 3)
        let m = "model.layers.0.mlp.up_proj"
        let w = Tensor(zeros: [512, 256])
        LowRankLinear.merge(weight: w.pointer, weightA: model.parameters.pointer(m + ".A.weight"), weightB: model.parameters.pointer(m + ".B.weight"),
                            inFeatures: 256, rank: 64, outFeatures: 512)
        let values = w.array
        let std = (values.reduce(0) { $0 + Double($1 * $1) } / Double(values.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
    }
}
