import Foundation
import Inference
import IO
import Models
import Quantization
import Tensor
import TestSupport
import Tokenizers
import Training
import NN
import XCTest

final class ModelConverterTests: XCTestCase {
    /// A byte-level tokenizer with one token per byte and no merges.
    static func byteTokenizer() throws -> BPETokenizer {
        try BPETokenizer(tokens: (0..<256).map { ByteLevelEncoding.encode([UInt8($0)]) }, merges: [], preTokenizer: .gpt2)
    }

    static func tinyModel() throws -> LlamaModel {
        let cfg = LlamaConfig(vocabSize: 256, hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2,
                              contextLength: 64, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: false)
        let m = try LlamaModel(config: cfg, seed: 11)
        var rng = RandomGenerator(seed: 12)
        for e in m.parameters.entries where e.shape.count == 2 { rng.fillNormal(m.parameters[e.name].buffer, std: 0.2) }
        return m
    }

    func testGGUFExportRoundTripsExactlyInF32AndRunsQuantized() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("convert")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Self.tinyModel(), tok = try Self.byteTokenizer()
        let f32 = dir.appendingPathComponent("tiny-f32.gguf").path
        try GGUFExporter.writeLlama(model: model, tokenizer: tok, type: .f32, name: "tiny", to: f32)
        let gguf = try GGUFFile(path: f32)
        XCTAssertEqual(try LlamaConfig(gguf: gguf), model.config)
        XCTAssertEqual(try BPETokenizer(gguf: gguf).tokens, tok.tokens)
        let back = try GGUFModelLoader.llamaModel(gguf: gguf)
        XCTAssertEqual(back.parameters.buffer.buffer.map { $0 }, model.parameters.buffer.buffer.map { $0 }, "q/k permutation undone exactly")

        let q41 = dir.appendingPathComponent("tiny-q4_1.gguf").path
        try GGUFExporter.writeLlama(model: model, tokenizer: tok, type: .q4_1, name: "tiny", to: q41)
        let qfile = try GGUFFile(path: q41)
        XCTAssertEqual(try qfile.tensor(named: "blk.0.attn_q.weight").type, .q4_1)
        XCTAssertEqual(try qfile.tensor(named: "token_embd.weight").type, .q8_0)
        XCTAssertEqual(try qfile.tensor(named: "blk.0.attn_norm.weight").type, .f32)
        let tokens: [Int32] = Array("Net income rose 12%".utf8).map { Int32($0) }
        // the runner computes on the stored 4-bit weights exactly as the float model of the same
        // (dequantized) weights does
        let runner = try GGUFModelLoader.llamaRunner(gguf: qfile)
        let dequantized = try GGUFModelLoader.llamaModel(gguf: qfile)
        assertAllClose(try runner.forward(tokens, allLogits: true), try dequantized.logits(tokens: tokens, batch: 1, seq: tokens.count).array,
                       rtol: 1e-3, atol: 1e-3, "runner on Q4_1 weights")
        // 8-bit export stays close to the original float model
        let q8 = dir.appendingPathComponent("tiny-q8_0.gguf").path
        try GGUFExporter.writeLlama(model: model, tokenizer: tok, type: .q8_0, name: "tiny", to: q8)
        let q8runner = try GGUFModelLoader.llamaRunner(gguf: try GGUFFile(path: q8))
        let quantized = try q8runner.forward(tokens, allLogits: true)
        let reference = try model.logits(tokens: tokens, batch: 1, seq: tokens.count).array
        let err = zip(quantized, reference).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(reference.count)
        let scale = reference.map { Double(abs($0)) }.reduce(0, +) / Double(reference.count)
        XCTAssertLessThan(err, 0.03 * scale, "Q8_0: mean abs error \(err) vs mean abs logit \(scale)")
        XCTAssertThrowsError(try GGUFExporter.writeLlama(model: model, tokenizer: tok, type: .q6_K, name: "tiny", to: q41))
    }

    func testHuggingFaceFolderRoundTripThroughConvert() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("convert-hf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try Self.tinyModel(), tok = try Self.byteTokenizer()
        let f32 = dir.appendingPathComponent("tiny.gguf").path
        try GGUFExporter.writeLlama(model: model, tokenizer: tok, type: .f32, name: "tiny", to: f32)
        let folder = dir.appendingPathComponent("hf").path
        _ = try ModelConverter.convert(input: f32, output: folder, target: .f32)
        let loaded = try HuggingFaceFolder(path: folder).loadLlama()
        XCTAssertEqual(loaded.parameters.buffer.buffer.map { $0 }, model.parameters.buffer.buffer.map { $0 })
        XCTAssertThrowsError(try ModelConverter.convert(input: f32, output: folder, target: .q4_1)) {
            XCTAssertTrue("\($0)".contains("safetensors output supports"))
        }
        XCTAssertThrowsError(try ModelConverter.convert(input: folder, output: dir.appendingPathComponent("x.gguf").path, target: .q8_0)) {
            XCTAssertTrue("\($0)".contains("no tokenizer found"), "\($0)")
        }
    }
}

final class LowRankLlamaExportTests: XCTestCase {
    func testFactorisedLlamaCheckpointExportsMergedOrWithFactors() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("llama-lowrank-export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dense = try ModelConverterTests.tinyModel()
        let (model, _) = try LowRankFactorizer.factorize(dense, plan: try LowRankPlan(parsing: "qkv=8,attn_out=e0.9,mlp_up=0.25,mlp_down=dense"))
        let ckpt = dir.appendingPathComponent("lowrank.bin").path
        try Checkpoint.save(to: ckpt, model: model, optimizer: nil, training: nil, step: 0, dataState: nil)
        let tokens: [Int32] = Array("EPS beat estimates".utf8).map { Int32($0) }
        let reference = try model.logits(tokens: tokens, batch: 1, seq: tokens.count).array
        // GGUF for llama.cpp: merged to dense, exact in f32; needs a tokenizer since checkpoints have none
        let gguf = dir.appendingPathComponent("merged.gguf").path
        XCTAssertThrowsError(try ModelConverter.convert(input: ckpt, output: gguf, target: .f32)) { XCTAssertTrue("\($0)".contains("tokenizer"), "\($0)") }
        let tokPath = dir.appendingPathComponent("tok.gguf").path
        try GGUFExporter.writeLlama(model: dense, tokenizer: try ModelConverterTests.byteTokenizer(), type: .f32, name: "tok", to: tokPath)
        XCTAssertTrue(try ModelConverter.convert(input: ckpt, output: gguf, target: .f32, tokenizerPath: tokPath).contains("merged"))
        let fromGGUF = try GGUFModelLoader.llamaModel(gguf: try GGUFFile(path: gguf))
        XCTAssertTrue(fromGGUF.config.lowRankRanks.isEmpty)
        assertAllClose(try fromGGUF.logits(tokens: tokens, batch: 1, seq: tokens.count).array, reference, rtol: 1e-4, atol: 1e-4, "merged GGUF")
        // safetensors for transformers: merged by default
        let merged = dir.appendingPathComponent("hf-merged").path
        _ = try ModelConverter.convert(input: ckpt, output: merged, target: .f32)
        let mergedModel = try HuggingFaceFolder(path: merged).loadLlama()
        XCTAssertTrue(mergedModel.config.lowRankRanks.isEmpty)
        assertAllClose(try mergedModel.logits(tokens: tokens, batch: 1, seq: tokens.count).array, reference, rtol: 1e-4, atol: 1e-4, "merged folder")
        // --keep-factors: the factors themselves, smaller, and fingpt loads them back bit for bit
        let factors = dir.appendingPathComponent("hf-factors").path
        XCTAssertTrue(try ModelConverter.convert(input: ckpt, output: factors, target: .f32, keepFactors: true).contains("kept"))
        let back = try HuggingFaceFolder(path: factors).loadLlama()
        XCTAssertEqual(back.config.lowRankRanks, model.config.lowRankRanks)
        XCTAssertEqual(back.config.headDim, model.config.headDim)
        XCTAssertEqual(back.parameters.buffer.buffer.map { $0 }, model.parameters.buffer.buffer.map { $0 })
        func size(_ folder: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: folder + "/model.safetensors")[.size] as! NSNumber).intValue
        }
        XCTAssertLessThan(try size(factors), try size(merged))
        // generation from the checkpoint runs on the factors
        let loaded = try LanguageModelLoader.load(path: ckpt, tokenizerPath: tokPath)
        XCTAssertTrue(loaded.description.contains("low-rank"), loaded.description)
        assertAllClose(try loaded.model.forward(tokens, allLogits: true), reference, rtol: 1e-4, atol: 1e-4, "checkpoint runner")
    }
}

final class GPT2ExportTests: XCTestCase {
    func testFactorisedCheckpointExportsAsDenseHuggingFaceGPT2() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("gpt2-export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = GPT2Config(vocabSize: 23, contextLength: 16, layers: 2, heads: 2, embeddingSize: 8)
        let model = try GPT2Model(config: try base.withLowRank(try LowRankPlan(parsing: "qkv=4,mlp_up=2")), seed: 4)
        let ckpt = dir.appendingPathComponent("ckpt.bin").path
        try Checkpoint.save(to: ckpt, model: model, optimizer: nil, training: nil, step: 0, dataState: nil)
        let folder = dir.appendingPathComponent("hf").path
        let summary = try ModelConverter.convert(input: ckpt, output: folder, target: .f32)
        XCTAssertTrue(summary.contains("merged"))
        let loaded = try HuggingFaceFolder(path: folder).loadGPT2()
        XCTAssertTrue(loaded.config.lowRankRanks.isEmpty)
        let tokens: [Int32] = [1, 7, 3, 22, 0, 5]
        assertAllClose(try loaded.logits(tokens: tokens, batch: 1, seq: 6).array, try model.logits(tokens: tokens, batch: 1, seq: 6).array,
                       rtol: 1e-4, atol: 1e-5, "exported dense GPT-2 = factorised model")
        XCTAssertThrowsError(try ModelConverter.convert(input: ckpt, output: dir.appendingPathComponent("x.gguf").path, target: .q8_0))
    }
}
