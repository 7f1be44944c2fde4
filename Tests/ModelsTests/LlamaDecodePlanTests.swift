import Foundation
import NN
import Quantization
import Tensor
import TestSupport
import XCTest
@testable import Models

/// The quantized one-token path of `LlamaRunner` (`LlamaDecodePlan`) against the general path on
/// the same quantized weights, and when it applies.
final class LlamaDecodePlanTests: XCTestCase {
    let cfg = LlamaConfig(vocabSize: 45, hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2,
                          contextLength: 80, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: false)

    /// A runner over `model`'s weights quantized: blocks as `blockType` (o as Q4_0), head as Q8_0.
    func quantizedRunner(_ model: LlamaModel, blockType: GGMLType) throws -> LlamaRunner {
        let p = model.parameters
        func map(_ names: [String], _ type: GGMLType) throws -> QuantizedLinearMap {
            let parts = names.map { p[$0] }
            let w = Tensor(zeros: [parts.reduce(0) { $0 + $1.shape[0] }, parts[0].shape[1]])
            var offset = 0
            for t in parts { (w.pointer + offset).update(from: t.pointer, count: t.count); offset += t.count }
            return QuantizedLinearMap(try QuantizedMatrix(quantizing: w, as: type))
        }
        let layers = try (0..<cfg.layers).map { l -> LlamaRunner.Layer in
            let n = "model.layers.\(l)."
            return LlamaRunner.Layer(
                attentionNorm: p[n + "input_layernorm.weight"].array,
                qkv: try map([n + "self_attn.q_proj.weight", n + "self_attn.k_proj.weight", n + "self_attn.v_proj.weight"], blockType),
                o: try map([n + "self_attn.o_proj.weight"], .q4_0),
                mlpNorm: p[n + "post_attention_layernorm.weight"].array,
                gateUp: try map([n + "mlp.gate_proj.weight", n + "mlp.up_proj.weight"], blockType),
                down: try map([n + "mlp.down_proj.weight"], blockType))
        }
        return try LlamaRunner(config: cfg, layers: layers, embedding: DenseEmbeddingTable(weight: p["model.embed_tokens.weight"]),
                               finalNorm: p["model.norm.weight"].array, head: try map(["lm_head.weight"], .q8_0))
    }

    func testDecodePlanMatchesGeneralPath() throws {
        let model = try LlamaModel(config: cfg, seed: 3)
        var rng = RandomGenerator(seed: 4)
        for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: 0.3) }
        let tokens = (0..<60).map { _ in Int32(rng.nextInt(below: cfg.vocabSize)) }
        for blockType in [GGMLType.q4_1, .q8_0, .q4_0] {
            let fast = try quantizedRunner(model, blockType: blockType), general = try quantizedRunner(model, blockType: blockType)
            general.usesDecodePlan = false
            XCTAssertNotNil(fast.decodePlan, "\(blockType): integer kernels everywhere, so the plan applies")
            for runner in [fast, general] { _ = try runner.forward(Array(tokens[0..<12])) }
            // short and long contexts: attention on one thread, then split over threads
            for (i, t) in tokens[12...].enumerated() {
                let a = try fast.forward([t]), b = try general.forward([t])
                assertAllClose(a, b, rtol: 1e-5, atol: 1e-5, "\(blockType) step \(12 + i)")
            }
            XCTAssertEqual(fast.position, 60)
            // the cache written by the fast path serves the general path and back
            fast.truncate(to: 30)
            general.truncate(to: 30)
            fast.usesDecodePlan = false
            general.usesDecodePlan = true
            assertAllClose(try fast.forward([tokens[30]]), try general.forward([tokens[30]]), rtol: 1e-5, atol: 1e-5, "\(blockType) swapped")
        }
    }

    func testPlanOnlyForIntegerKernels() throws {
        let model = try LlamaModel(config: cfg, seed: 3)
        XCTAssertNil(try LlamaRunner(model: model).decodePlan, "float32 weights take the general path")
        let plan = try XCTUnwrap(try quantizedRunner(model, blockType: .q4_1).decodePlan)
        // thread shares cover the rows exactly, in multiples of 4
        for count in [0, 3, 64, 160, 45, 49152] {
            let shares = (0..<plan.threads).map { plan.share(count, worker: $0) }
            XCTAssertEqual(shares.map(\.count).reduce(0, +), count, "rows \(count)")
            for (a, b) in zip(shares, shares.dropFirst()) where !b.isEmpty { XCTAssertEqual(a.upperBound, b.lowerBound) }
            for s in shares.dropLast() where s.upperBound < count { XCTAssertEqual(s.count % 4, 0, "rows \(count)") }
        }
    }
}
