import Data
import Foundation
import Models
import TestSupport
import Tokenizers
import Training
import XCTest

/// prepare -> pretrain -> resume on the project's sample corpus with the real SmolLM2 tokenizer.
final class PretrainJobTests: XCTestCase {
    func testPrepareTrainResumeAndSample() throws {
        guard let modelPath = FixturePaths.smolLM2Model else { throw XCTSkip("SmolLM2 GGUF not found; run `make setup`") }
        let dir = try FixturePaths.makeTemporaryDirectory("pretrain-job")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenizer = try BPETokenizer(ggufPath: modelPath)
        let corpus = FixturePaths.repositoryRoot.appendingPathComponent("data/sample/fin_sample_corpus.txt").path
        var options = CorpusPreparer.Options(outputDirectory: dir.appendingPathComponent("data").path)
        options.valFraction = 0.2
        let manifest = try CorpusPreparer(tokenizer: tokenizer, options: options, progress: .quiet).prepare(corpusPath: corpus)
        XCTAssertGreaterThan(manifest.valTokens, 64)

        var job = PretrainJob(dataDirectory: options.outputDirectory, outputDirectory: dir.appendingPathComponent("run").path)
        job.model = "tiny"
        job.showProgress = false
        job.training.steps = 4
        job.training.batch = 2
        job.training.seq = 16
        job.training.evalEvery = 2
        job.training.evalBatches = 1
        job.training.checkpointEvery = 2
        let first = try job.run { _ in }
        XCTAssertEqual(first.steps.count, 4)
        XCTAssertEqual(first.validation.map(\.step), [0, 2, 4])
        let ckpt = try Checkpoint(path: first.checkpointPath)
        XCTAssertEqual(ckpt.header.model.vocabularySize, tokenizer.vocabularySize, "the vocabulary is the data's")

        // resume with more steps: continues at step 4 and keeps one log line per step
        job.resume = true
        job.training.steps = 6
        let second = try job.run { _ in }
        XCTAssertEqual(second.steps.map(\.step), [5, 6])
        let log = JSONLinesLog.read(path: dir.appendingPathComponent("run/log.jsonl").path)
        XCTAssertEqual(log.compactMap { ($0["loss"] as? NSNumber)?.intValue == nil ? nil : ($0["step"] as! NSNumber).intValue }, [1, 2, 3, 4, 5, 6])

        // sample a few tokens from the checkpoint
        let model = try Checkpoint(path: second.checkpointPath).loadGPT2()
        var generation = GenerationOptions()
        generation.maxNewTokens = 5
        generation.temperature = 0.8
        generation.topK = 10
        var ids: [Int32] = []
        let stats = try TextGeneration.generate(model: GPT2Runner(model: model), prompt: tokenizer.encode("The Federal Reserve"), options: generation) {
            ids.append($0); return true
        }
        XCTAssertEqual(stats.generatedTokens, ids.count)
        XCTAssertLessThanOrEqual(ids.count, 5)
        XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
    }

    func testMissingDataAndVocabularyMismatchAreClearErrors() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("pretrain-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = PretrainJob(dataDirectory: dir.appendingPathComponent("nope").path, outputDirectory: dir.path)
        job.showProgress = false
        XCTAssertThrowsError(try job.run { _ in }) { XCTAssertTrue("\($0)".contains("no such data folder"), "\($0)") }
        job.resume = true
        XCTAssertThrowsError(try job.run { _ in }) { XCTAssertTrue("\($0)".contains("checkpoint.bin"), "\($0)") }
        // a data folder without a manifest
        job = PretrainJob(dataDirectory: dir.path, outputDirectory: dir.appendingPathComponent("out").path)
        XCTAssertThrowsError(try job.run { _ in }) { XCTAssertTrue("\($0)".contains("manifest"), "\($0)") }
    }
}
