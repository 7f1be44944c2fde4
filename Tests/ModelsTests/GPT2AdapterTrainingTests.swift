import Foundation
import IO
import Models
import NN
import Optim
import Quantization
import Tensor
import TestSupport
import XCTest

/// LoRA / QLoRA training of a GPT-2 model over a frozen (float32 or quantized) base: only the
/// adapter's factors train, biases, LayerNorms and embeddings stay frozen in float32 (the tied
/// embedding and head as Q8_0 under quantized formats).
final class GPT2AdapterTrainingTests: XCTestCase {
    /// Width 64 (MLP 256) so that every block format (NF4 blocks of 64, Q4/Q8 blocks of 32) applies.
    let config = GPT2Config(vocabSize: 40, contextLength: 16, layers: 2, heads: 4, embeddingSize: 64)

    /// A dense GPT-2 with large random weights, non-zero biases and non-trivial LayerNorms (so that
    /// a frozen base that dropped a bias or a norm shift would give other logits).
    func denseModel() throws -> GPT2Model {
        let m = try GPT2Model(config: config, seed: 21)
        var rng = RandomGenerator(seed: 22)
        for e in m.parameters.entries {
            if e.shape.count == 2 {
                rng.fillNormal(m.parameters[e.name].buffer, std: 0.15)
            } else if e.name.hasSuffix("ln_1.weight") || e.name.hasSuffix("ln_2.weight") || e.name.hasSuffix("ln_f.weight") {
                rng.fillUniform(m.parameters[e.name].buffer, low: 0.6, high: 1.4)
            } else {
                rng.fillNormal(m.parameters[e.name].buffer, std: 0.1)
            }
        }
        return m
    }

    func adapter(dropout: Float = 0, targets: String = "c_attn,attn.c_proj,c_fc,mlp.c_proj", rsLoRA: Bool = false, seed: UInt64 = 5) throws -> LoRAAdapter {
        let cfg = try LoRAConfig(rank: 4, alpha: 8, dropout: dropout, useRSLoRA: rsLoRA, targets: try LoRATarget.parseList(targets))
        // B is zero after PEFT's init; give it values so that A's gradient is not trivially zero
        return try LoRATestSupport.randomAdapter(cfg, base: .gpt2(config), seed: seed)
    }

    func data(_ seed: UInt64, n: Int = 12) -> (tokens: [Int32], targets: [Int32]) {
        var rng = RandomGenerator(seed: seed)
        var targets = (0..<n).map { _ in Int32(rng.nextInt(below: 40)) }
        targets[1] = -1; targets[2] = -1 // prompt positions: not scored
        return ((0..<n).map { _ in Int32(rng.nextInt(below: 40)) }, targets)
    }

    func testAdapterGradientsMatchFiniteDifferencesOnEveryBaseFormat() throws {
        let dense = try denseModel()
        let (tokens, targets) = data(1)
        for format in FrozenWeightFormat.allCases {
            let model = try GPT2Model(base: try GPT2FrozenBase(model: dense, format: format), adapter: try adapter(rsLoRA: format == .q4_0))
            XCTAssertEqual(model.parameters.parameterCount, model.adapter!.parameterCount, "only the adapter trains")
            XCTAssertEqual(model.frozenWeightFormat, format)
            model.zeroGradients()
            _ = try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 6, gradScale: 1)
            let f: () -> Double = { (try? model.loss(tokens: tokens, targets: targets, batch: 2, seq: 6).lossSum) ?? .nan }
            var rng = RandomGenerator(seed: 3)
            var checked = 0
            for e in model.parameters.entries where e.name.contains("h.1.") || e.name.contains("c_attn") {
                let idx = GradientCheck.sampleIndices(count: e.count, max: 5, rng: &rng)
                GradientCheck.assertMatches(model.gradients.pointer(e.name),
                                            GradientCheck.numeric(f, at: model.parameters.pointer(e.name), count: e.count, indices: idx, eps: 2e-3),
                                            rtol: 3e-2, atol: 2e-3, "\(e.name) on \(format.cliName)")
                checked += 1
            }
            XCTAssertEqual(checked, 10, "A and B of the four modules of block 1 and of block 0's c_attn")
            let gradNorm = Kernels.sumOfSquares(model.gradients.buffer.pointer, count: model.gradients.buffer.count)
            XCTAssertGreaterThan(gradNorm, 1e-6, "\(format.cliName): the adapter receives gradients")
        }
    }

    func testDropoutMasksAreRepeatableAndGradientsFollowThem() throws {
        let base = try GPT2FrozenBase(model: try denseModel(), format: .nf4)
        let model = try GPT2Model(base: base, adapter: try adapter(dropout: 0.3, targets: "c_attn,mlp.c_proj"))
        XCTAssertEqual(model.adapter!.modules.map(\.path), ["transformer.h.0.attn.c_attn", "transformer.h.0.mlp.c_proj",
                                                           "transformer.h.1.attn.c_attn", "transformer.h.1.mlp.c_proj"])
        let (tokens, targets) = data(2)
        model.stochasticSeed = 77
        model.zeroGradients()
        let l1 = try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 6, gradScale: 1)
        // the training loss with dropout as a function of the parameters (gradScale 0 adds nothing)
        let f: () -> Double = { (try? model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 6, gradScale: 0).lossSum) ?? .nan }
        XCTAssertEqual(f(), l1.lossSum, "same seed, same masks")
        let eval = try model.loss(tokens: tokens, targets: targets, batch: 2, seq: 6).lossSum
        XCTAssertNotEqual(eval, l1.lossSum, "no dropout outside training")
        var rng = RandomGenerator(seed: 4)
        for e in model.parameters.entries {
            let idx = GradientCheck.sampleIndices(count: e.count, max: 4, rng: &rng)
            GradientCheck.assertMatches(model.gradients.pointer(e.name),
                                        GradientCheck.numeric(f, at: model.parameters.pointer(e.name), count: e.count, indices: idx, eps: 2e-3),
                                        rtol: 3e-2, atol: 2e-3, "\(e.name) with dropout")
        }
        model.stochasticSeed = 78
        XCTAssertNotEqual(f(), l1.lossSum, "another seed, other masks")
    }

    /// Block-scaled int16 frozen products on GPT-2's biased linears: within rounding of the float32
    /// loss and gradients, and bit-identical with recomputation.
    func testInt16FrozenProductsGiveTheFloatGradientsAndRecomputeIdentically() throws {
        let base = try GPT2FrozenBase(model: try denseModel(), format: .nf4)
        let (tokens, targets) = data(7, n: 32)
        var results: [(loss: Double, grads: [Float])] = []
        for (arithmetic, recompute) in [(FrozenProductArithmetic.float32, false), (.blockInt16, false), (.blockInt16, true)] {
            let model = try GPT2Model(base: try base.with(arithmetic: arithmetic), adapter: try adapter(dropout: 0.1), recompute: recompute)
            model.stochasticSeed = 5
            model.zeroGradients()
            let r = try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 16, gradScale: 1 / 28)
            results.append((r.lossSum, Array(model.gradients.buffer.buffer)))
        }
        let (f, i) = (results[0], results[1])
        XCTAssertNotEqual(f.grads, i.grads, "the int16 products ran")
        XCTAssertEqual(i.loss, f.loss, accuracy: 1e-4 * abs(f.loss))
        var diff: Float = 0, norm: Float = 0
        for j in f.grads.indices { diff += (f.grads[j] - i.grads[j]) * (f.grads[j] - i.grads[j]); norm += f.grads[j] * f.grads[j] }
        XCTAssertLessThan(diff.squareRoot(), 5e-3 * norm.squareRoot())
        XCTAssertEqual(results[2].grads, i.grads, "bit-identical with recomputation")
    }

    func testRecomputationGivesIdenticalAdapterGradients() throws {
        let dense = try denseModel()
        let (tokens, targets) = data(3, n: 16)
        for format in [FrozenWeightFormat.q4_1, .f32] {
            let base = try GPT2FrozenBase(model: dense, format: format)
            var grads: [[Float]] = [], losses: [Double] = [], arenaBytes: [Int] = []
            for recompute in [false, true] {
                let model = try GPT2Model(base: base, adapter: try adapter(dropout: 0.1), recompute: recompute)
                model.stochasticSeed = 5
                model.zeroGradients()
                losses.append(try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 8, gradScale: 1 / 14).lossSum)
                grads.append(Array(model.gradients.buffer.buffer))
                arenaBytes.append(model.activationBytes)
            }
            XCTAssertEqual(losses[0], losses[1], "\(format.cliName): same loss")
            XCTAssertEqual(grads[0], grads[1], "\(format.cliName): bit-identical gradients with recomputation")
            XCTAssertTrue(grads[0].contains { $0 != 0 })
            XCTAssertLessThan(arenaBytes[1], arenaBytes[0], "recomputation keeps fewer activations")
        }
    }

    /// Two pipeline stages (blocks 0 and 1, activations passed by hand as the pipeline runner passes
    /// them) give the single-process loss and adapter gradients, dropout masks included; the tied head
    /// is frozen, so no stage shares a parameter.
    func testPipelineStagesGiveTheSameAdapterGradients() throws {
        let base = try GPT2FrozenBase(model: try denseModel(), format: .q8_0)
        let model = try GPT2Model(base: base, adapter: try adapter(dropout: 0.2), recompute: true)
        XCTAssertNil(model.tiedHeadParameter)
        XCTAssertEqual(model.gradientGroup(ofParameter: "transformer.h.1.mlp.c_fc.lora_A.weight"), .block(1))
        let (tokens, targets) = data(7)
        model.stochasticSeed = 9
        model.zeroGradients()
        let whole = try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 6, gradScale: 0.1)
        let expected = Array(model.gradients.buffer.buffer)
        model.zeroGradients()
        let first = try model.makeStageArena(batch: 2, seq: 6, layers: 0..<1), second = try model.makeStageArena(batch: 2, seq: 6, layers: 1..<2)
        try model.stageForward(first, tokens: tokens, training: true)
        second.input.update(from: first.output, count: first.hiddenCount)
        try model.stageForward(second, tokens: tokens, training: true)
        let staged = try model.stageLoss(second, targets: targets, gradScale: 0.1)
        try model.stageBackward(second)
        first.gradient.update(from: second.gradient, count: second.hiddenCount)
        try model.stageBackward(first)
        XCTAssertEqual(staged.lossSum, whole.lossSum)
        assertAllClose(Array(model.gradients.buffer.buffer), expected, rtol: 1e-5, atol: 1e-7, "staged vs whole gradients")
        XCTAssertTrue(expected.contains { $0 != 0 })
    }

    func testAdapterOverFrozenBaseEqualsMergedModelAndStartsAtTheBase() throws {
        let dense = try denseModel()
        let (tokens, _) = data(4)
        let reference = try dense.logits(tokens: tokens, batch: 2, seq: 6).array
        // a fresh adapter (B = 0) leaves the model unchanged
        var rng = RandomGenerator(seed: 8)
        let fresh = try LoRAAdapter(config: try adapter().config, base: .gpt2(config), rng: &rng)
        let start = try GPT2Model(base: try GPT2FrozenBase(model: dense, format: .f32), adapter: fresh)
        assertAllClose(try start.logits(tokens: tokens, batch: 2, seq: 6).array, reference, rtol: 1e-5, atol: 1e-5, "fresh adapter")
        assertAllClose(try start.lastLogits(tokens: Array(tokens.prefix(6))), try dense.lastLogits(tokens: Array(tokens.prefix(6))),
                       rtol: 1e-5, atol: 1e-5, "last position")
        // base + adapter = the dense model with W + s B A merged in
        let trained = try adapter(rsLoRA: true)
        let adapted = try GPT2Model(base: try GPT2FrozenBase(model: dense, format: .f32), adapter: trained)
        let adaptedLogits = try adapted.logits(tokens: tokens, batch: 2, seq: 6).array
        let merged = try denseModel()
        try LoRAMerge.merge(trained, into: merged)
        assertAllClose(adaptedLogits, try merged.logits(tokens: tokens, batch: 2, seq: 6).array, rtol: 1e-4, atol: 1e-4, "adapter = merged weights")
        XCTAssertGreaterThan(zip(adaptedLogits, reference).map { abs($0 - $1) }.max()!, 0.1, "the adapter matters")
        // the loss on quantized bases stays near the float one
        let (t2, y2) = data(5)
        let lf = try adapted.loss(tokens: t2, targets: y2, batch: 2, seq: 6).mean
        for format in [FrozenWeightFormat.nf4, .int8, .q8_0] {
            let quantized = try GPT2Model(base: try GPT2FrozenBase(model: dense, format: format), adapter: trained)
            XCTAssertEqual(try quantized.loss(tokens: t2, targets: y2, batch: 2, seq: 6).mean, lf, accuracy: 0.05 * lf, format.cliName)
        }
    }

    func testAdamWOnTheAdapterLearnsAndOnlyAdapterParametersChange() throws {
        let dense = try denseModel()
        let denseBefore = Array(dense.parameters.buffer.buffer)
        let base = try GPT2FrozenBase(model: dense, format: .f32) // views of `dense`: any write to the base would show there
        let floatsBefore = Array(base.floats.buffer.buffer)
        var rng = RandomGenerator(seed: 11)
        let fresh = try LoRAAdapter(config: try adapter().config, base: .gpt2(config), rng: &rng)
        let model = try GPT2Model(base: base, adapter: fresh)
        var hyper = AdamW.Hyper()
        hyper.weightDecay = 0
        let opt = AdamW(parameters: model.parameters, hyper: hyper)
        XCTAssertEqual(opt.m.count, model.parameters.buffer.count, "optimizer state only for the adapter")
        XCTAssertLessThan(fresh.parameterCount * 5, dense.config.parameterCount, "the adapter is a small part of the model")
        let aBefore = Array(fresh.parameters.buffer.buffer)
        let tokens: [Int32] = (0..<16).map { Int32(($0 * 7) % 40) }, targets: [Int32] = (0..<16).map { Int32(($0 * 7 + 3) % 40) }
        var losses: [Float] = []
        for _ in 0..<25 {
            model.zeroGradients()
            losses.append(try model.forwardBackward(tokens: tokens, targets: targets, batch: 2, seq: 8, gradScale: 1 / 16).mean)
            opt.update(params: model.parameters.buffer.pointer, grads: model.gradients.buffer.pointer, lr: 1e-2)
        }
        XCTAssertLessThan(losses.last!, losses.first! * 0.7, "the adapter alone fits the batch: \(losses.first!) -> \(losses.last!)")
        XCTAssertNotEqual(Array(fresh.parameters.buffer.buffer), aBefore, "the adapter moved")
        for m in fresh.modules { XCTAssertTrue(fresh.b(m).array.contains { $0 != 0 }, "\(m.path): B left zero") }
        XCTAssertEqual(Array(dense.parameters.buffer.buffer), denseBefore, "the frozen weights did not change")
        XCTAssertEqual(Array(base.floats.buffer.buffer), floatsBefore, "biases, norms and position embedding did not change")
        withExtendedLifetime((dense, base, fresh, model)) {} // the arrays above copy from their buffers
    }

    func testSavedPEFTAdapterLoadsBackWithIdenticalLogits() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("gpt2-adapter")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try GPT2FrozenBase(model: try denseModel(), format: .nf4)
        let trained = try adapter(targets: "c_attn,c_proj")
        let model = try GPT2Model(base: base, adapter: trained)
        let (tokens, _) = data(6)
        let before = try model.logits(tokens: tokens, batch: 2, seq: 6).array
        try LoRAPEFTFormat.save(trained, to: dir.path)
        let configJSON = try String(contentsOf: dir.appendingPathComponent(LoRAPEFTFormat.configFileName), encoding: .utf8)
        XCTAssertTrue(configJSON.contains("\"fan_in_fan_out\" : true") && configJSON.contains("\"mlp.c_proj\""), configJSON)
        let keys = try SafetensorsFile(path: dir.appendingPathComponent(LoRAPEFTFormat.weightsFileName).path).names
        XCTAssertTrue(keys.contains("base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight"), "\(keys)")
        let loaded = try LoRAPEFTFormat.load(from: dir.path, base: .gpt2(config))
        XCTAssertEqual(loaded.modules, trained.modules)
        let reloaded = try GPT2Model(base: base, adapter: loaded)
        XCTAssertEqual(try reloaded.logits(tokens: tokens, batch: 2, seq: 6).array, before, "identical logits after the round trip")
    }

    func testPEFTAdapterOverFrozenBaseGivesPEFTLogits() throws {
        // fixtures from dev/make_peft_golden.py: PEFT's GPT2LMHeadModel + LoRA (fan_in_fan_out) logits
        let file = try SafetensorsFile(path: try LoRATestSupport.fixture("expected.safetensors"))
        let tokens = try file.int32s("tokens"), expected = try file.floats("gpt2.peft_logits")
        let dense = try HuggingFaceFolder(path: try LoRATestSupport.fixture("gpt2_base")).loadGPT2()
        let adapter = try LoRAPEFTFormat.load(from: try LoRATestSupport.fixture("gpt2_adapter"), base: .gpt2(dense.config))
        let model = try GPT2Model(base: try GPT2FrozenBase(model: dense, format: .f32), adapter: adapter)
        assertAllClose(try model.logits(tokens: tokens, batch: 2, seq: 8).array, expected, rtol: 1e-4, atol: 2e-5, "adapter over frozen base vs PEFT")
    }

    func testTargetsOfAnotherArchitectureOrShapeAreRefused() throws {
        let message = LoRATestSupport.errorText {
            _ = try LoRAAdapter(config: try LoRAConfig(rank: 4, alpha: 8, targets: [.query, .value]), base: .gpt2(config))
        }
        XCTAssertTrue(message.contains("'q_proj' is a llama module but the base model is gpt2") && message.contains("c_attn, attn.c_proj, c_fc, mlp.c_proj"), message)
        let unknown = LoRATestSupport.errorText { _ = try LoRATarget.parseList("c_attn,wq") }
        XCTAssertTrue(unknown.contains("'wq'") && unknown.contains("c_fc"), unknown)
        XCTAssertEqual(try LoRATarget.parseList("c_proj"), [.gpt2AttentionOutput, .gpt2MLPOutput], "PEFT's c_proj selects both projections")
        XCTAssertEqual(LoRATarget.all(architecture: "gpt2"), [.gpt2Attention, .gpt2AttentionOutput, .gpt2MLPUp, .gpt2MLPOutput])
        let base = try GPT2FrozenBase(model: try denseModel(), format: .f32)
        var other = config
        other.embeddingSize = 32
        let wrongShape = LoRATestSupport.errorText {
            _ = try GPT2Model(base: base, adapter: try LoRATestSupport.randomAdapter(try adapter().config, base: .gpt2(other), seed: 1))
        }
        XCTAssertTrue(wrongShape.contains("transformer.h.0.attn.c_attn"), wrongShape)
        let llama = LlamaConfig(vocabSize: 40, hiddenSize: 64, intermediateSize: 128, layers: 2, heads: 4, kvHeads: 2, contextLength: 16)
        let llamaAdapter = try LoRATestSupport.randomAdapter(try LoRAConfig(rank: 2, alpha: 4, targets: [.query]), base: .llama(llama), seed: 2)
        let wrongArchitecture = LoRATestSupport.errorText { _ = try GPT2Model(base: base, adapter: llamaAdapter) }
        XCTAssertTrue(wrongArchitecture.contains("adapter is for a llama model"), wrongArchitecture)
        // a factorised base cannot be frozen directly
        let factorised = try GPT2Model(config: try config.withLowRank(try LowRankPlan(parsing: "qkv=8")), seed: 3)
        let lowRank = LoRATestSupport.errorText { _ = try GPT2FrozenBase(model: factorised, format: .nf4) }
        XCTAssertTrue(lowRank.contains("merge the low-rank factors"), lowRank)
        // NF4 needs inputs in blocks of 64
        let narrow = try GPT2Model(config: GPT2Config(vocabSize: 40, contextLength: 16, layers: 1, heads: 2, embeddingSize: 32), seed: 4)
        let blocks = LoRATestSupport.errorText { _ = try GPT2FrozenBase(model: narrow, format: .nf4) }
        XCTAssertTrue(blocks.contains("transformer.h.0.attn.c_attn.weight") && blocks.contains("block size 64"), blocks)
    }
}
