import Data
import Foundation
import Inference
import IO
import Models
import NN
import Quantization
import Tensor
import TestSupport
import Tokenizers
import Training
import XCTest

/// End-to-end LoRA / QLoRA instruction finetuning on a tiny LLaMA written as a GGUF file.
final class FinetuneJobTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try FixturePaths.makeTemporaryDirectory("finetune") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A byte tokenizer (id = UTF-8 byte) with `<|endoftext|>` = 256 as end of sequence, and a tiny
    /// random LLaMA over it, as a GGUF file.
    func tinyModel() throws -> String {
        let tokens = ByteLevelEncoding.byteToScalar.map { String($0) } + ["<|endoftext|>"]
        let types: [TokenType] = Array(repeating: .normal, count: 256) + [.control]
        let tok = try BPETokenizer(tokens: tokens, tokenTypes: types, merges: [], preTokenizer: .gpt2, eosID: 256)
        let cfg = LlamaConfig(vocabSize: 257, hiddenSize: 64, intermediateSize: 128, layers: 2, heads: 4, kvHeads: 2,
                              contextLength: 128, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true)
        let model = try LlamaModel(config: cfg, seed: 3)
        let path = dir.appendingPathComponent("tiny.gguf").path
        try GGUFExporter.writeLlama(model: model, tokenizer: tok, type: .q8_0, name: "tiny", to: path)
        return path
    }

    /// Sentiment-like rows whose answer follows from the input's first word.
    func writeData(_ name: String, rows: Int, malformedAt: Int? = nil) throws -> String {
        let words = [("up", "positive"), ("down", "negative"), ("flat", "neutral")]
        var lines: [String] = []
        for i in 0..<rows {
            if i == malformedAt { lines.append("{\"instruction\": 3}"); continue }
            let (w, label) = words[i % 3]
            lines.append("{\"instruction\": \"Sentiment?\", \"input\": \"\(w) \(i)\", \"output\": \"\(label)\"}")
        }
        let path = dir.appendingPathComponent(name).path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func job(_ model: String, _ data: String, out: String, steps: Int) throws -> FinetuneJob {
        var j = try FinetuneJob(modelPath: model, data: [try InstructionDataSpec(parsing: data + ":2")], outputDirectory: dir.appendingPathComponent(out).path)
        j.format = .nf4
        j.lora = try LoRAConfig(rank: 4, alpha: 8, dropout: 0.05, useRSLoRA: false, targets: [.query, .value, .gate, .down])
        j.maxSequenceLength = 48
        j.devFraction = 0.2
        j.training.steps = steps
        j.training.batch = 4
        j.training.learningRate = 3e-3
        j.training.warmupSteps = 2
        j.training.evalEvery = 5
        j.training.evalBatches = 2
        j.training.checkpointEvery = 5
        j.showProgress = false
        return j
    }

    func testQLoRAFinetuneLearnsWritesAdaptersAndResumesExactly() throws {
        let model = try tinyModel(), data = try writeData("train.jsonl", rows: 60)
        let full = try job(model, data, out: "full", steps: 10).run { _ in }
        let losses = full.summary.steps.map(\.loss)
        XCTAssertLessThan(full.summary.validation.last!.loss, full.summary.validation.first!.loss, "validation loss falls")
        XCTAssertEqual(full.trainableParameters, 2 * (4 * (64 + 64) + 4 * (64 + 32) + 4 * (64 + 128) + 4 * (128 + 64)))
        // PEFT folder and llama.cpp LoRA at the end
        let adapterDir = try XCTUnwrap(full.adapterDirectory)
        let cfg = LlamaConfig(vocabSize: 257, hiddenSize: 64, intermediateSize: 128, layers: 2, heads: 4, kvHeads: 2, contextLength: 128,
                              rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true)
        let saved = try LoRAPEFTFormat.load(from: adapterDir, base: .llama(cfg))
        XCTAssertEqual(saved.config.rank, 4)
        let ckpt = try Checkpoint(path: full.summary.checkpointPath)
        XCTAssertEqual(ckpt.header.frozenFormat, "nf4")
        let restored = try ckpt.loadAdapter()
        let fromCheckpoint = Array(restored.parameters.buffer.buffer), fromPEFT = Array(saved.parameters.buffer.buffer)
        withExtendedLifetime(restored) {}
        XCTAssertEqual(fromCheckpoint.count, fromPEFT.count)
        let differing = zip(fromCheckpoint, fromPEFT).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        XCTAssertTrue(differing.isEmpty, "checkpoint and PEFT adapter differ at \(differing.count) positions, first \(differing.prefix(10))")
        XCTAssertThrowsError(try ckpt.loadModel()) { XCTAssertTrue("\($0)".contains("LoRA adapter"), "\($0)") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: try XCTUnwrap(full.adapterGGUF)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("full/loss.svg").path))
        // interrupted at step 5, resumed in a new job: the same losses, bit for bit
        var first = try job(model, data, out: "split", steps: 10)
        first.stopAt = 5
        let head = try first.run { _ in }
        XCTAssertNil(head.adapterDirectory, "no adapter export before the last step")
        var second = try job(model, data, out: "split", steps: 10)
        second.resume = true
        let tail = try second.run { _ in }
        XCTAssertEqual(head.summary.steps.map(\.loss) + tail.summary.steps.map(\.loss), losses)
        // other LoRA settings cannot resume this run
        var other = try job(model, data, out: "split", steps: 12)
        other.lora.rank = 8
        other.resume = true
        XCTAssertThrowsError(try other.run { _ in }) { XCTAssertTrue("\($0)".contains("LoRA settings differ"), "\($0)") }
    }

    /// Block-scaled int16 frozen products (the default): recorded in finetune.json, and a resume (even
    /// one asking for float32) continues in the run's arithmetic, bit for bit.
    func testInt16FrozenProductsAreRecordedAndResumeExactly() throws {
        let model = try tinyModel(), data = try writeData("train16.jsonl", rows: 60)
        let whole = try job(model, data, out: "int16-full", steps: 8)
        XCTAssertEqual(whole.frozenArithmetic, .blockInt16, "the default")
        let losses = try whole.run { _ in }.summary.steps.map(\.loss)
        let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("int16-full/finetune.json"))) as? [String: Any]
        XCTAssertEqual(settings?["frozen_compute"] as? String, "int16")
        var float32 = try job(model, data, out: "f32-full", steps: 8)
        float32.frozenArithmetic = .float32
        let floatLosses = try float32.run { _ in }.summary.steps.map(\.loss)
        XCTAssertNotEqual(losses, floatLosses, "the arithmetic changed the products")
        for (a, b) in zip(losses, floatLosses) { XCTAssertEqual(a, b, accuracy: 1e-2 * abs(b)) }
        var first = try job(model, data, out: "int16-split", steps: 8)
        first.frozenArithmetic = .blockInt16
        first.stopAt = 4
        let head = try first.run { _ in }
        var second = try job(model, data, out: "int16-split", steps: 8)
        second.resume = true
        second.frozenArithmetic = .float32   // the run's int16 wins
        var lines: [String] = []
        let tail = try second.run { lines.append($0) }
        XCTAssertEqual(head.summary.steps.map(\.loss) + tail.summary.steps.map(\.loss), losses)
        XCTAssertTrue(lines.contains { $0.contains("frozen-product arithmetic int16") }, "\(lines)")
    }

    func testMalformedDataIsRefusedWithItsLine() throws {
        let model = try tinyModel(), data = try writeData("bad.jsonl", rows: 10, malformedAt: 6)
        XCTAssertThrowsError(try job(model, data, out: "bad", steps: 2).run { _ in }) { e in
            XCTAssertTrue("\(e)".contains("bad.jsonl:7"), "\(e)")
        }
    }
}
