import Foundation
import IO
import Models
import NN
import Optim
import Tensor
import TestSupport
import Training
import XCTest

final class TrainerTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "fingpt-trainer-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    let modelConfig = GPT2Config(vocabSize: 50, contextLength: 32, layers: 2, heads: 2, embeddingSize: 16)

    func corpus(_ n: Int, seed: UInt64) -> [Int32] {
        // a learnable pattern: arithmetic sequences mod vocab with occasional noise
        var rng = RandomGenerator(seed: seed)
        var out: [Int32] = []
        var v = 0
        for i in 0..<n {
            v = (v + 3) % 50
            out.append(Int32(i % 17 == 0 ? rng.nextInt(below: 50) : v))
        }
        return out
    }

    func makeConfig(steps: Int) -> TrainingConfig {
        var c = TrainingConfig()
        c.steps = steps; c.batch = 4; c.seq = 16; c.gradAccumulation = 2
        c.learningRate = 1e-2; c.minLearningRate = 1e-3; c.warmupSteps = 3
        c.evalEvery = 4; c.evalBatches = 2; c.checkpointEvery = 5
        return c
    }

    let llamaConfig = LlamaConfig(vocabSize: 50, hiddenSize: 16, intermediateSize: 32, layers: 2, heads: 4, kvHeads: 2, contextLength: 32)

    func trainer(steps: Int, subdir: String, llamaPlan: String? = nil) throws -> Trainer {
        let model: TrainableLanguageModel = try llamaPlan.map { try LlamaModel(config: try llamaConfig.withLowRank(try LowRankPlan(parsing: $0)), seed: 9) }
            ?? GPT2Model(config: modelConfig, seed: 9)
        let source = ArrayTokenSource(train: corpus(4000, seed: 1), validation: corpus(600, seed: 2), seed: 5)
        let t = try Trainer(model: model, data: source, config: makeConfig(steps: steps), outputDirectory: dir + "/" + subdir)
        t.showProgress = false
        t.log = { _ in }
        return t
    }

    func testLossDecreasesAndOutputsAreWritten() throws {
        let t = try trainer(steps: 30, subdir: "a")
        let s = try t.run()
        XCTAssertEqual(s.steps.count, 30)
        XCTAssertLessThan(s.steps.last!.loss, s.steps.first!.loss - 1.0, "training learns the pattern")
        XCTAssertLessThan(s.validation.last!.loss, s.validation.first!.loss)
        XCTAssertTrue(FileManager.default.fileExists(atPath: t.checkpointPath))
        let svg = try String(contentsOfFile: t.curvePath, encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("<path"))
        let log = JSONLinesLog.read(path: t.logPath)
        XCTAssertEqual(log.compactMap { $0["loss"] }.count, 30)
        XCTAssertGreaterThan(log.compactMap { $0["val_loss"] }.count, 3)
        // the schedule warmed up and decayed
        XCTAssertEqual(s.steps[0].learningRate, 1e-2 / 3, accuracy: 1e-9)
        XCTAssertEqual(s.steps[2].learningRate, 1e-2, accuracy: 1e-9)
        XCTAssertLessThan(s.steps.last!.learningRate, 1.1e-3)
    }

    func testResumedRunReproducesUninterruptedLossesExactly() throws {
        let full = try trainer(steps: 12, subdir: "full").run()
        // interrupted: 5 steps (checkpoint at 5), then a fresh process-like trainer resumes to 12
        let interrupted = try trainer(steps: 12, subdir: "split").run(stoppingAt: 5)
        XCTAssertEqual(interrupted.steps.map(\.loss), full.steps.prefix(5).map(\.loss))
        let resumed = try trainer(steps: 12, subdir: "split")
        try resumed.resume()
        XCTAssertEqual(resumed.step, 5)
        let rest = try resumed.run()
        let a = full.steps.suffix(7).map(\.loss), b = rest.steps.map(\.loss)
        XCTAssertEqual(a, b, "bit-identical losses after resume")
        let log = JSONLinesLog.read(path: resumed.logPath).compactMap { ($0["loss"] as? NSNumber)?.floatValue }
        XCTAssertEqual(log, full.steps.map(\.loss), "the resumed log continues without duplicates")
    }

    func testLowRankLlamaTrainsResumesExactlyAndReloads() throws {
        let plan = "qkv=4,attn_out=4,mlp_up=0.5,mlp_down=8"
        let full = try trainer(steps: 10, subdir: "lfull", llamaPlan: plan).run()
        XCTAssertLessThan(full.steps.last!.loss, full.steps.first!.loss - 0.5, "the factorised LLaMA learns the pattern")
        _ = try trainer(steps: 10, subdir: "lsplit", llamaPlan: plan).run(stoppingAt: 5)
        let resumed = try trainer(steps: 10, subdir: "lsplit", llamaPlan: plan)
        try resumed.resume()
        XCTAssertEqual(try resumed.run().steps.map(\.loss), full.steps.suffix(5).map(\.loss), "bit-identical after resume")
        let ck = try Checkpoint(path: resumed.checkpointPath)
        XCTAssertEqual(ck.header.architecture, "llama")
        let loaded = try ck.loadLlama()
        XCTAssertEqual(loaded.config.lowRankRanks["model.layers.1.mlp.gate_proj"], 8, "0.5 of min(16, 32)")
        XCTAssertTrue(loaded.parameters.buffer.buffer.elementsEqual(resumed.model.parameters.buffer.buffer))
        XCTAssertThrowsError(try ck.loadGPT2()) { XCTAssertTrue("\($0)".contains("llama"), "\($0)") }
        // the factors are what the file stores: smaller than the dense model's weights
        let dense = try LlamaModel(config: llamaConfig)
        XCTAssertLessThan(ck.header.parameterBufferCount, dense.parameters.buffer.count)
        // a GPT-2 trainer refuses the LLaMA checkpoint
        XCTAssertThrowsError(try trainer(steps: 10, subdir: "lsplit").resume()) { XCTAssertTrue("\($0)".contains("differs"), "\($0)") }
    }

    func testCheckpointRoundTripAndCorruption() throws {
        let t = try trainer(steps: 3, subdir: "c")
        try t.run()
        let ck = try Checkpoint(path: t.checkpointPath)
        XCTAssertEqual(ck.header.step, 3)
        let restored = try ck.loadModel()
        XCTAssertEqual(restored.parameters.buffer.buffer.elementsEqual(t.model.parameters.buffer.buffer), true)
        // truncated
        let data = try Data(contentsOf: URL(fileURLWithPath: t.checkpointPath))
        let bad = dir + "/bad.bin"
        try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try Checkpoint(path: bad)) { XCTAssertTrue("\($0)".contains("bad.bin")) }
        var wrongMagic = data
        wrongMagic[0] = 0x58
        try wrongMagic.write(to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try Checkpoint(path: bad)) { XCTAssertTrue("\($0)".contains("magic")) }
        XCTAssertThrowsError(try Checkpoint(path: dir + "/missing.bin")) { XCTAssertTrue("\($0)".contains("not found")) }
        // resuming with a different model config is refused
        let other = try Trainer(model: try GPT2Model(config: GPT2Config(vocabSize: 50, contextLength: 32, layers: 1, heads: 2, embeddingSize: 16), seed: 1),
                                data: t.data, config: t.config, outputDirectory: dir + "/c")
        XCTAssertThrowsError(try other.resume())
    }

    func testBadConfigsAreRefused() throws {
        let model = try GPT2Model(config: modelConfig, seed: 1)
        let src = ArrayTokenSource(train: corpus(100, seed: 1), seed: 1)
        var c = makeConfig(steps: 5)
        c.seq = 64 // beyond the context of 32
        XCTAssertThrowsError(try Trainer(model: model, data: src, config: c, outputDirectory: dir)) {
            XCTAssertTrue("\($0)".contains("exceeds the model's context length"))
        }
        c = makeConfig(steps: 0)
        XCTAssertThrowsError(try Trainer(model: model, data: src, config: c, outputDirectory: dir))
        XCTAssertThrowsError(try GPT2Config(vocabSize: 10, contextLength: 8, layers: 1, heads: 3, embeddingSize: 16).validate())
        // config JSON files
        let path = dir + "/cfg.json"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "{\"n_layer\": 2}".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GPT2Config.load(presetOrPath: path)) { XCTAssertTrue("\($0)".contains("missing key")) }
        try "not json".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GPT2Config.load(presetOrPath: path)) { XCTAssertTrue("\($0)".contains("cfg.json")) }
        XCTAssertThrowsError(try GPT2Config.load(presetOrPath: "no-such-preset"))
        XCTAssertEqual(try GPT2Config.load(presetOrPath: "gpt2").parameterCount, 124_439_808)
    }

    func testGradientAccumulationEqualsOneLargeBatch() throws {
        // two micro-batches of 2 with scale 1/(2*2*T) equal one batch of 4 with scale 1/(4*T)
        let model = try GPT2Model(config: modelConfig, seed: 3)
        let src = ArrayTokenSource(train: corpus(1000, seed: 4), seed: 2)
        let b = try src.nextTrainingBatch(batch: 4, seq: 8)
        model.zeroGradients()
        _ = try model.forwardBackward(tokens: b.inputs, targets: b.targets, batch: 4, seq: 8, gradScale: 1 / 32)
        let whole = model.gradients.buffer.buffer.map { $0 }
        model.zeroGradients()
        _ = try model.forwardBackward(tokens: Array(b.inputs[0..<16]), targets: Array(b.targets[0..<16]), batch: 2, seq: 8, gradScale: 1 / 32)
        _ = try model.forwardBackward(tokens: Array(b.inputs[16...]), targets: Array(b.targets[16...]), batch: 2, seq: 8, gradScale: 1 / 32)
        assertAllClose(model.gradients.buffer.buffer.map { $0 }, whole, rtol: 1e-4, atol: 1e-6, "accumulated")
    }
}
