import Foundation
import Models
import Tensor
import TestSupport
import XCTest

/// Adapter construction (modules, shapes, PEFT's initialisation), validation and merging.
final class LoRAAdapterTests: XCTestCase {
    func testModulesAndShapesForLlama() throws {
        let c = LoRATestSupport.llama  // hidden 32, q 32, kv 16, intermediate 48
        let config = try LoRAConfig(rank: 4, alpha: 8, targets: LoRATarget.parseList("q,k,v,o,gate,up,down"))
        let adapter = try LoRAAdapter(config: config, base: .llama(c))
        XCTAssertEqual(adapter.modules.count, 14)
        let expected: [String: (Int, Int)] = ["self_attn.q_proj": (32, 32), "self_attn.k_proj": (32, 16), "self_attn.v_proj": (32, 16),
                                              "self_attn.o_proj": (32, 32), "mlp.gate_proj": (32, 48), "mlp.up_proj": (32, 48),
                                              "mlp.down_proj": (48, 32)]
        for l in 0..<2 {
            for (suffix, (inF, outF)) in expected {
                let m = try XCTUnwrap(adapter.module(named: "model.layers.\(l).\(suffix)"))
                XCTAssertEqual(adapter.a(m).shape, [4, inF], m.path)
                XCTAssertEqual(adapter.b(m).shape, [outF, 4], m.path)
                XCTAssertEqual(m.layer, l)
            }
        }
        XCTAssertEqual(adapter.parameterCount, 2 * 4 * (64 + 48 + 48 + 64 + 80 + 80 + 80))
        XCTAssertEqual(adapter.parameters.entries.first?.name, "model.layers.0.self_attn.q_proj.lora_A.weight")

        let subset = try LoRAAdapter(config: LoRAConfig(rank: 2, alpha: 2, targets: [.value, .query], layers: [1]), base: .llama(c))
        XCTAssertEqual(subset.modules.map(\.path), ["model.layers.1.self_attn.v_proj", "model.layers.1.self_attn.q_proj"])
    }

    func testModulesForGPT2AndArchitectureChecks() throws {
        let g = LoRATestSupport.gpt2
        let adapter = try LoRAAdapter(config: LoRAConfig(rank: 3, alpha: 6, targets: LoRATarget.parseList("c_attn,attn.c_proj,c_fc,mlp.c_proj")),
                                      base: .gpt2(g))
        let m0 = try XCTUnwrap(adapter.module(named: "transformer.h.0.attn.c_attn"))
        XCTAssertEqual([m0.inFeatures, m0.outFeatures], [32, 96])
        let fc = try XCTUnwrap(adapter.module(named: "transformer.h.1.mlp.c_fc"))
        XCTAssertEqual([fc.inFeatures, fc.outFeatures], [32, 128])
        let proj = try XCTUnwrap(adapter.module(named: "transformer.h.1.mlp.c_proj"))
        XCTAssertEqual([proj.inFeatures, proj.outFeatures], [128, 32])

        var message = LoRATestSupport.errorText { _ = try LoRAAdapter(config: LoRAConfig(rank: 2, alpha: 2, targets: [.query]), base: .gpt2(g)) }
        XCTAssertTrue(message.contains("'q_proj' is a llama module"), message)
        message = LoRATestSupport.errorText { _ = try LoRAAdapter(config: LoRAConfig(rank: 2, alpha: 2, targets: [.up], layers: [2]), base: .llama(LoRATestSupport.llama)) }
        XCTAssertTrue(message.contains("layer 2"), message)
        var factorised = g
        factorised.lowRankRanks = ["transformer.h.0.mlp.c_fc": 8]
        message = LoRATestSupport.errorText { _ = try LoRAAdapter(config: LoRAConfig(rank: 2, alpha: 2, targets: [.gpt2MLPUp]), base: .gpt2(factorised)) }
        XCTAssertTrue(message.contains("transformer.h.0.mlp.c_fc") && message.contains("factorised"), message)
    }

    func testInitialisationIsKaimingUniformAForZeroB() throws {
        let c = LlamaConfig(vocabSize: 16, hiddenSize: 256, intermediateSize: 1024, layers: 1, heads: 4, kvHeads: 4, contextLength: 8)
        var rng = RandomGenerator(seed: 7)
        let adapter = try LoRAAdapter(config: LoRAConfig(rank: 16, alpha: 16, targets: [.gate, .down]), base: .llama(c), rng: &rng)
        for m in adapter.modules {
            let a = adapter.a(m).array, bound = 1 / Float(m.inFeatures).squareRoot()
            XCTAssertTrue(a.allSatisfy { abs($0) <= bound }, m.path)
            XCTAssertGreaterThan(a.map(abs).max()!, 0.98 * bound, "values fill the whole range")
            let mean = a.reduce(0, +) / Float(a.count)
            let variance = a.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(a.count)
            // U(-b, b): mean 0, variance b^2 / 3 (16 x 256 = 4096 or 16 x 1024 samples)
            XCTAssertEqual(mean, 0, accuracy: 4 * bound / Float(3 * a.count).squareRoot(), m.path)
            XCTAssertEqual(variance, bound * bound / 3, accuracy: 0.06 * bound * bound / 3, m.path)
            XCTAssertTrue(adapter.b(m).array.allSatisfy { $0 == 0 }, m.path)
        }
        var again = RandomGenerator(seed: 7)
        let same = try LoRAAdapter(config: adapter.config, base: adapter.base, rng: &again)
        XCTAssertEqual(same.parameters.buffer.pointer[0], adapter.parameters.buffer.pointer[0], "seeded")
    }

    func testMergeAddsScaledProductAndUnmergeRestores() throws {
        var rng = RandomGenerator(seed: 3)
        let (out, inF, r) = (6, 5, 3)
        let w = Tensor.normal([out, inF], std: 1, rng: &rng), a = Tensor.normal([r, inF], std: 1, rng: &rng)
        let b = Tensor.normal([out, r], std: 1, rng: &rng)
        let original = w.array
        try LoRAMerge.merge(a: a, b: b, scaling: 0.75, into: w)
        for i in 0..<out {
            for j in 0..<inF {
                var s: Double = 0
                for k in 0..<r { s += Double(b[i * r + k]) * Double(a[k * inF + j]) }
                XCTAssertEqual(Double(w[i * inF + j]), Double(original[i * inF + j]) + 0.75 * s, accuracy: 1e-5)
            }
        }
        try LoRAMerge.unmerge(a: a, b: b, scaling: 0.75, from: w)
        assertAllClose(w.array, original, rtol: 0, atol: 1e-5, "unmerged")
        XCTAssertThrowsError(try LoRAMerge.merge(a: b, b: a, scaling: 1, into: w))
    }

    func testFreshAdapterLeavesTheModelUnchangedAndMergeRoundTrips() throws {
        let model = try LlamaModel(config: LoRATestSupport.llama, seed: 11)
        let tokens: [Int32] = [1, 5, 9, 2, 33, 63, 0, 7]
        let before = try model.logits(tokens: tokens, batch: 1, seq: 8).array
        var rng = RandomGenerator(seed: 5)
        let config = try LoRAConfig(rank: 4, alpha: 8, targets: LoRATarget.parseList("q,k,v,o,gate,up,down"))
        let fresh = try LoRAAdapter(config: config, base: .llama(model.config), rng: &rng)
        try LoRAMerge.merge(fresh, into: model)
        XCTAssertEqual(try model.logits(tokens: tokens, batch: 1, seq: 8).array, before, "B = 0: the update is exactly zero")

        let trained = try LoRATestSupport.randomAdapter(config, base: .llama(model.config), seed: 6)
        let weights = model.parameters.buffer.pointer
        let snapshot = Array(UnsafeBufferPointer(start: weights, count: model.parameters.buffer.count))
        try LoRAMerge.merge(trained, into: model)
        let merged = try model.logits(tokens: tokens, batch: 1, seq: 8).array
        XCTAssertGreaterThan(zip(merged, before).map { abs($0 - $1) }.max()!, 0.01, "the adapter changes the model")
        try LoRAMerge.unmerge(trained, from: model)
        assertAllClose(Array(UnsafeBufferPointer(start: weights, count: snapshot.count)), snapshot, rtol: 0, atol: 1e-6, "weights")
    }

    func testValidationAgainstAnotherBase() throws {
        let config = try LoRAConfig(rank: 4, alpha: 8, targets: [.query, .down])
        let adapter = try LoRAAdapter(config: config, base: .llama(LoRATestSupport.llama))
        var wider = LoRATestSupport.llama
        wider.intermediateSize = 64
        var message = LoRATestSupport.errorText { try adapter.validate(against: .llama(wider)) }
        XCTAssertTrue(message.contains("model.layers.0.mlp.down_proj") && message.contains("[32, 64]"), message)
        var shallower = LoRATestSupport.llama
        shallower.layers = 1
        message = LoRATestSupport.errorText { try LoRAMerge.merge(adapter, into: try LlamaModel(config: shallower, seed: 1)) }
        XCTAssertTrue(message.contains("model.layers.1.self_attn.q_proj"), message)
        message = LoRATestSupport.errorText { try adapter.validate(against: .gpt2(LoRATestSupport.gpt2)) }
        XCTAssertTrue(message.contains("llama") && message.contains("gpt2"), message)
        XCTAssertNoThrow(try adapter.validate(against: .llama(LoRATestSupport.llama)))
    }
}
