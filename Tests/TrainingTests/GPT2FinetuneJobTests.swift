import Data
import Foundation
import Inference
import IO
import Models
import NN
import Tensor
import TestSupport
import Tokenizers
import Training
import XCTest

/// End-to-end LoRA / QLoRA instruction finetuning of a tiny GPT-2 (as a GGUF file and as a fingpt
/// checkpoint), then generation with the adapter and merging it into the base.
final class GPT2FinetuneJobTests: XCTestCase {
    var dir: URL!
    /// One block keeps the (debug-build) runs short; the model tests cover deeper stacks.
    let config = GPT2Config(vocabSize: 257, contextLength: 64, layers: 1, heads: 4, embeddingSize: 64)

    override func setUpWithError() throws { dir = try FixturePaths.makeTemporaryDirectory("gpt2-finetune") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A byte tokenizer (id = UTF-8 byte) with `<|endoftext|>` = 256 as end of sequence.
    func tokenizer() throws -> BPETokenizer {
        let tokens = ByteLevelEncoding.byteToScalar.map { String($0) } + ["<|endoftext|>"]
        let types: [TokenType] = Array(repeating: .normal, count: 256) + [.control]
        return try BPETokenizer(tokens: tokens, tokenTypes: types, merges: [], preTokenizer: .gpt2, eosID: 256)
    }

    /// A random GPT-2 with non-zero biases over the byte tokenizer, as a Q8_0 GGUF file (which also
    /// serves as the tokenizer) and as a fingpt checkpoint.
    func tinyModel() throws -> (dense: GPT2Model, gguf: String, checkpoint: String) {
        let model = try GPT2Model(config: config, seed: 3)
        var rng = RandomGenerator(seed: 4)
        for e in model.parameters.entries where e.name.hasSuffix(".bias") { rng.fillNormal(model.parameters[e.name].buffer, std: 0.05) }
        let gguf = dir.appendingPathComponent("tiny-gpt2.gguf").path
        try GGUFExporter.writeGPT2(model: model, tokenizer: try tokenizer(), type: .q8_0, name: "tiny", to: gguf)
        let checkpoint = dir.appendingPathComponent("tiny-gpt2.bin").path
        try Checkpoint.save(to: checkpoint, model: model, optimizer: nil, training: nil, step: 0, dataState: nil)
        return (model, gguf, checkpoint)
    }

    /// Sentiment-like rows whose answer follows from the input's first word.
    func writeData(rows: Int) throws -> String {
        let words = [("up", "positive"), ("down", "negative"), ("flat", "neutral")]
        let lines = (0..<rows).map { i -> String in
            let (w, label) = words[i % 3]
            return "{\"instruction\": \"Sentiment?\", \"input\": \"\(w) \(i)\", \"output\": \"\(label)\"}"
        }
        let path = dir.appendingPathComponent("train.jsonl").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func job(_ model: String, _ data: String, out: String, steps: Int, format: FrozenWeightFormat = .nf4, dropout: Float = 0.05) throws -> FinetuneJob {
        var j = try FinetuneJob(modelPath: model, data: [try InstructionDataSpec(parsing: data + ":2")], outputDirectory: dir.appendingPathComponent(out).path)
        j.format = format
        j.lora = try LoRAConfig(rank: 4, alpha: 8, dropout: dropout, useRSLoRA: false, targets: LoRATarget.all(architecture: "gpt2"))
        j.maxSequenceLength = 48
        j.devFraction = 0.2
        j.training.steps = steps
        j.training.batch = 4
        j.training.learningRate = 3e-3
        j.training.warmupSteps = 2
        j.training.evalEvery = 3
        j.training.evalBatches = 2
        j.training.checkpointEvery = 3
        j.showProgress = false
        return j
    }

    func testQLoRAFinetuneOfGPT2GGUFLearnsWritesAdaptersAndResumesExactly() throws {
        let (_, gguf, _) = try tinyModel()
        let data = try writeData(rows: 60)
        XCTAssertEqual(try TrainableModelLoader.architecture(path: gguf), "gpt2")
        let full = try job(gguf, data, out: "full", steps: 6).run { _ in }
        XCTAssertLessThan(full.summary.validation.last!.loss, full.summary.validation.first!.loss, "validation loss falls")
        XCTAssertEqual(full.trainableParameters, 4 * ((64 + 192) + (64 + 64) + (64 + 256) + (256 + 64)), "only the adapter trains")
        XCTAssertGreaterThan(full.frozenBytes, 0)
        // PEFT folder, checkpoint and llama.cpp LoRA at the end, holding the same factors
        let saved = try LoRAPEFTFormat.load(from: try XCTUnwrap(full.adapterDirectory), base: .gpt2(config))
        XCTAssertEqual(saved.modules.count, 4)
        let ckpt = try Checkpoint(path: full.summary.checkpointPath)
        XCTAssertEqual(ckpt.header.frozenFormat, "nf4")
        XCTAssertEqual(ckpt.header.model, .gpt2(config))
        let restored = try ckpt.loadAdapter()
        let fromCheckpoint = Array(restored.parameters.buffer.buffer), fromPEFT = Array(saved.parameters.buffer.buffer)
        withExtendedLifetime((restored, saved)) {}
        XCTAssertEqual(fromCheckpoint.count, fromPEFT.count)
        XCTAssertTrue(zip(fromCheckpoint, fromPEFT).allSatisfy { $0 == $1 }, "the checkpoint and the PEFT folder hold the same factors")
        let ggufAdapter = try GGUFFile(path: try XCTUnwrap(full.adapterGGUF))
        XCTAssertEqual(ggufAdapter.architecture, "gpt2")
        XCTAssertTrue(ggufAdapter.hasTensor(named: "blk.0.attn_qkv.weight.lora_a"))
        // interrupted at step 3, resumed in a new job: the same losses, bit for bit
        var first = try job(gguf, data, out: "split", steps: 6)
        first.stopAt = 3
        let head = try first.run { _ in }
        XCTAssertNil(head.adapterDirectory, "no adapter export before the last step")
        var second = try job(gguf, data, out: "split", steps: 6)
        second.resume = true
        let tail = try second.run { _ in }
        XCTAssertEqual(head.summary.steps.map(\.loss) + tail.summary.steps.map(\.loss), full.summary.steps.map(\.loss))
        // LLaMA targets on a GPT-2 base are refused with the GPT-2 choices
        var wrong = try job(gguf, data, out: "wrong", steps: 2)
        wrong.lora.targets = [.query, .value]
        XCTAssertThrowsError(try wrong.run { _ in }) { XCTAssertTrue("\($0)".contains("base model is gpt2 (its targets: c_attn"), "\($0)") }
    }

    func testAdapterOfACheckpointGeneratesAndMergesLikeTheTrainingModel() throws {
        let (dense, gguf, checkpoint) = try tinyModel()
        let data = try writeData(rows: 30)
        var j = try job(checkpoint, data, out: "lora", steps: 4, format: .f32, dropout: 0)
        j.tokenizerPath = gguf
        let result = try j.run { _ in }
        let outDir = dir.appendingPathComponent("lora").path
        let adapter = try LanguageModelLoader.loadAdapter(outDir, base: .gpt2(config))
        XCTAssertTrue(adapter.modules.contains { adapter.b($0).array.contains { $0 != 0 } }, "training moved B")
        let tokens: [Int32] = Array("up 7 Sentiment?".utf8).map { Int32($0) }
        let reference = try GPT2Model(base: try GPT2FrozenBase(model: dense, format: .f32), adapter: adapter)
            .logits(tokens: tokens, batch: 1, seq: tokens.count).array
        // generation: the base checkpoint with the finetune output folder (or its checkpoint) as adapter
        for adapterPath in [outDir, result.summary.checkpointPath] {
            let loaded = try LanguageModelLoader.load(path: checkpoint, tokenizerPath: gguf, adapterPath: adapterPath)
            XCTAssertTrue(loaded.description.contains("LoRA r=4"), loaded.description)
            assertAllClose(try loaded.model.forward(tokens, allLogits: true), reference, rtol: 1e-4, atol: 1e-4, "runner with \(adapterPath)")
        }
        // the same with the quantized GGUF base (dequantized for GPT-2 inference): close, not equal
        let overGGUF = try LanguageModelLoader.load(path: gguf, adapterPath: outDir)
        assertAllClose(try overGGUF.model.forward(tokens, allLogits: true), reference, rtol: 0.05, atol: 0.05, "Q8_0 base + adapter")
        // merging: a Hugging Face folder and a GGUF file that compute base + adapter without it
        let folder = dir.appendingPathComponent("merged").path
        XCTAssertTrue(try ModelConverter.merge(base: checkpoint, adapter: outDir, output: folder, target: .f32, tokenizerPath: gguf).contains("merged"))
        let merged = try HuggingFaceFolder(path: folder).loadGPT2()
        assertAllClose(try merged.logits(tokens: tokens, batch: 1, seq: tokens.count).array, reference, rtol: 1e-4, atol: 1e-4, "merged folder")
        let mergedGGUF = dir.appendingPathComponent("merged.gguf").path
        _ = try ModelConverter.merge(base: checkpoint, adapter: outDir, output: mergedGGUF, target: .f32, tokenizerPath: gguf)
        let fromGGUF = try LanguageModelLoader.load(path: mergedGGUF)
        assertAllClose(try fromGGUF.model.forward(tokens, allLogits: true), reference, rtol: 1e-4, atol: 1e-4, "merged GGUF")
    }

    func testFullFinetuneOfGPT2TrainsEveryWeight() throws {
        let (_, _, checkpoint) = try tinyModel()
        var j = try job(checkpoint, try writeData(rows: 20), out: "full", steps: 2)
        j.tokenizerPath = dir.appendingPathComponent("tiny-gpt2.gguf").path
        j.full = true
        let result = try j.run { _ in }
        XCTAssertEqual(result.trainableParameters, config.parameterCount)
        XCTAssertNil(result.adapterDirectory)
        XCTAssertNil(try Checkpoint(path: result.summary.checkpointPath).header.adapter)
    }
}
