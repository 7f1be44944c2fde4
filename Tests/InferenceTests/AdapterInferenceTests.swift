import Foundation
import Inference
import IO
import Models
import NN
import Tensor
import TestSupport
import Tokenizers
import XCTest

/// Generation with a LoRA adapter on top of stored weights, and merging an adapter into its base.
final class AdapterInferenceTests: XCTestCase {
    func adapter(for config: LlamaConfig, seed: UInt64) throws -> LoRAAdapter {
        let cfg = try LoRAConfig(rank: 4, alpha: 8, dropout: 0, useRSLoRA: true, targets: [.query, .key, .value, .output, .up, .down])
        var rng = RandomGenerator(seed: seed)
        let a = try LoRAAdapter(config: cfg, base: .llama(config), rng: &rng)
        for m in a.modules { rng.fillNormal(a.b(m).buffer, std: 0.3) }
        return a
    }

    func testAdaptedMapEqualsMergedWeight() throws {
        var rng = RandomGenerator(seed: 1)
        let w = Tensor.uniform([12, 8], rng: &rng), a1 = Tensor.uniform([3, 8], rng: &rng), b1 = Tensor.uniform([5, 3], rng: &rng)
        let a2 = Tensor.uniform([2, 8], rng: &rng), b2 = Tensor.uniform([4, 2], rng: &rng)
        let map = try AdaptedLinearMap(base: DenseLinearMap(weight: w), deltas: [.init(rowOffset: 0, a: a1, b: b1, scaling: 0.5),
                                                                               .init(rowOffset: 7, a: a2, b: b2, scaling: 2)])
        // the merged dense weight, by hand
        let merged = Tensor(zeros: [12, 8])
        merged.pointer.update(from: w.pointer, count: 96)
        BLAS.gemmReference(m: 5, n: 8, k: 3, alpha: 0.5, a: b1.pointer, b: a1.pointer, beta: 1, c: merged.pointer)
        BLAS.gemmReference(m: 4, n: 8, k: 2, alpha: 2, a: b2.pointer, b: a2.pointer, beta: 1, c: merged.pointer + 7 * 8)
        let x = Tensor.uniform([3, 8], rng: &rng), dy = Tensor.uniform([3, 12], rng: &rng)
        let y = Tensor(zeros: [3, 12]), yRef = Tensor(zeros: [3, 12])
        map.forward(x.pointer, rows: 3, into: y.pointer)
        DenseLinearMap(weight: merged).forward(x.pointer, rows: 3, into: yRef.pointer)
        assertAllClose(y.array, yRef.array, rtol: 1e-5, atol: 1e-5, "forward")
        let dx = Tensor(zeros: [3, 8]), dxRef = Tensor(zeros: [3, 8])
        map.backwardInput(dy.pointer, rows: 3, accumulateInto: dx.pointer)
        DenseLinearMap(weight: merged).backwardInput(dy.pointer, rows: 3, accumulateInto: dxRef.pointer)
        assertAllClose(dx.array, dxRef.array, rtol: 1e-5, atol: 1e-5, "backward")
        XCTAssertThrowsError(try AdaptedLinearMap(base: DenseLinearMap(weight: w), deltas: [.init(rowOffset: 10, a: a1, b: b1, scaling: 1)]))
    }

    func testRunnerWithAdapterMatchesTrainingModelAndMergedExport() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("adapter-inference")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dense = try ModelConverterTests.tinyModel(), tok = try ModelConverterTests.byteTokenizer()
        let adapter = try adapter(for: dense.config, seed: 3)
        let tokens: [Int32] = Array("Revenue grew 8% y/y".utf8).map { Int32($0) }
        let training = try LlamaModel(base: try LlamaFrozenBase(model: dense, format: .f32), adapter: adapter)
        let reference = try training.logits(tokens: tokens, batch: 1, seq: tokens.count).array
        // float runner + adapter: the training model's logits, incrementally too
        let runner = try LlamaRunner(model: dense).adapted(by: adapter)
        assertAllClose(try runner.forward(tokens, allLogits: true), reference, rtol: 1e-4, atol: 1e-4, "prompt")
        runner.reset()
        _ = try runner.forward(Array(tokens.prefix(10)))
        let v = dense.config.vocabSize
        for i in 10..<tokens.count {
            assertAllClose(try runner.forward([tokens[i]]), Array(reference[(i * v)..<((i + 1) * v)]), rtol: 1e-4, atol: 1e-4, "step \(i)")
        }
        // a quantized GGUF runner + adapter equals the training model over the same stored weights
        let q8 = dir.appendingPathComponent("tiny-q8.gguf").path
        try GGUFExporter.writeLlama(model: dense, tokenizer: tok, type: .q8_0, name: "tiny", to: q8)
        let peft = dir.appendingPathComponent("adapter").path
        try LoRAPEFTFormat.save(adapter, to: peft)
        let loaded = try LanguageModelLoader.load(path: q8, adapterPath: peft)
        XCTAssertTrue(loaded.description.contains("LoRA r=4"), loaded.description)
        let quantizedTraining = try LlamaModel(base: try LlamaFrozenBase(gguf: try GGUFFile(path: q8), format: .q8_0), adapter: adapter)
        assertAllClose(try loaded.model.forward(tokens, allLogits: true), try quantizedTraining.logits(tokens: tokens, batch: 1, seq: tokens.count).array,
                       rtol: 2e-3, atol: 2e-3, "Q8_0 runner + adapter")
        // merge: base + adapter -> one dense file with the adapted model's logits
        let f32 = dir.appendingPathComponent("tiny-f32.gguf").path
        try GGUFExporter.writeLlama(model: dense, tokenizer: tok, type: .f32, name: "tiny", to: f32)
        let merged = dir.appendingPathComponent("merged.gguf").path
        XCTAssertTrue(try ModelConverter.merge(base: f32, adapter: peft, output: merged, target: .f32).contains("merged"))
        let mergedModel = try GGUFModelLoader.llamaModel(gguf: try GGUFFile(path: merged))
        assertAllClose(try mergedModel.logits(tokens: tokens, batch: 1, seq: tokens.count).array, reference, rtol: 1e-4, atol: 1e-4, "merged GGUF")
        let q41 = dir.appendingPathComponent("merged-q4_1.gguf").path
        _ = try ModelConverter.merge(base: f32, adapter: peft, output: q41, target: .q4_1)
        XCTAssertEqual(try GGUFFile(path: q41).tensor(named: "blk.0.attn_q.weight").type, .q4_1, "re-quantized on export")
        // an adapter for another model shape is refused with the module named
        var other = dense.config
        other.intermediateSize = 64
        let wrong = dir.appendingPathComponent("wrong").path
        try LoRAPEFTFormat.save(try self.adapter(for: other, seed: 4), to: wrong)
        XCTAssertThrowsError(try LanguageModelLoader.load(path: q8, adapterPath: wrong)) { XCTAssertTrue("\($0)".contains("up_proj"), "\($0)") }
    }
}
