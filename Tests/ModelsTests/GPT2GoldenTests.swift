import Foundation
import IO
import Models
import Optim
import Tensor
import TestSupport
import Training
import XCTest

/// The whole GPT-2 forward, backward and ten AdamW steps against PyTorch (fixture written by
/// dev/make_gpt2_golden.py), as llm.c's test_gpt2 does.
final class GPT2GoldenTests: XCTestCase {
    struct Fixture {
        let file: SafetensorsFile
        let config: GPT2Config
        let batch: Int, seq: Int, steps: Int
        let lr: Float, hyper: AdamW.Hyper, clip: Float
    }

    func loadFixture() throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/gpt2_tiny", withExtension: "safetensors"))
        let file = try SafetensorsFile(path: url.path)
        let m = file.metadata
        let cfg = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(m["config"]).utf8)) as! [String: Int]
        let config = GPT2Config(vocabSize: cfg["vocab_size"]!, contextLength: cfg["block_size"]!, layers: cfg["n_layer"]!,
                                heads: cfg["n_head"]!, embeddingSize: cfg["n_embd"]!, layerNormEpsilon: Float(m["ln_eps"]!)!)
        let hyper = AdamW.Hyper(beta1: Float(m["beta1"]!)!, beta2: Float(m["beta2"]!)!, eps: Float(m["eps"]!)!, weightDecay: Float(m["weight_decay"]!)!)
        return Fixture(file: file, config: config, batch: Int(m["B"]!)!, seq: Int(m["T"]!)!, steps: Int(m["steps"]!)!,
                       lr: Float(m["lr"]!)!, hyper: hyper, clip: Float(m["grad_clip"]!)!)
    }

    func loadModel(_ f: Fixture, recompute: Bool = false) throws -> GPT2Model {
        let model = try GPT2Model(config: f.config, recompute: recompute)
        for e in model.parameters.entries {
            let values = try f.file.floats(e.name)
            XCTAssertEqual(try f.file.entry(e.name).shape, e.shape, e.name)
            model.parameters.pointer(e.name).update(from: values, count: values.count)
        }
        return model
    }

    func testForwardMatchesPyTorch() throws {
        let f = try loadFixture()
        let model = try loadModel(f)
        let tokens = try f.file.int32s("inputs"), targets = try f.file.int32s("targets")
        let logits = try model.logits(tokens: tokens, batch: f.batch, seq: f.seq)
        assertAllClose(logits.array, try f.file.floats("logits"), rtol: 1e-4, atol: 2e-5, "logits")
        let loss = try model.loss(tokens: tokens, targets: targets, batch: f.batch, seq: f.seq)
        XCTAssertEqual(loss.mean, try f.file.floats("loss")[0], accuracy: 1e-5)
    }

    func testBackwardMatchesPyTorch() throws {
        let f = try loadFixture()
        for recompute in [false, true] {
            let model = try loadModel(f, recompute: recompute)
            let tokens = try f.file.int32s("inputs"), targets = try f.file.int32s("targets")
            model.zeroGradients()
            let r = try model.forwardBackward(tokens: tokens, targets: targets, batch: f.batch, seq: f.seq, gradScale: 1 / Float(f.batch * f.seq))
            XCTAssertEqual(r.mean, try f.file.floats("loss")[0], accuracy: 1e-5)
            for e in model.gradients.entries {
                let expected = try f.file.floats("grad." + e.name)
                let scale = expected.map { abs($0) }.max() ?? 1
                assertAllClose(model.gradients[e.name].array, expected, rtol: 1e-3, atol: 1e-4 * max(scale, 1e-3), "grad.\(e.name) recompute=\(recompute)")
            }
        }
    }

    func testTenOptimizerStepsMatchPyTorch() throws {
        let f = try loadFixture()
        let model = try loadModel(f)
        let optimizer = AdamW(parameters: model.parameters, hyper: f.hyper)
        let tokens = try f.file.int32s("inputs"), targets = try f.file.int32s("targets")
        let expectedLosses = try f.file.floats("losses"), expectedNorms = try f.file.floats("grad_norm")
        for step in 0..<f.steps {
            model.zeroGradients()
            let r = try model.forwardBackward(tokens: tokens, targets: targets, batch: f.batch, seq: f.seq, gradScale: 1 / Float(f.batch * f.seq))
            XCTAssertEqual(r.mean, expectedLosses[step], accuracy: 2e-4, "loss at step \(step)")
            let norm = GradientClipping.clip(model.gradients.buffer.pointer, count: model.gradients.buffer.count, maxNorm: f.clip)
            XCTAssertEqual(norm, expectedNorms[step], accuracy: 1e-3 * max(1, expectedNorms[step]), "grad norm at step \(step)")
            optimizer.update(params: model.parameters.buffer.pointer, grads: model.gradients.buffer.pointer, lr: f.lr)
        }
        for e in model.parameters.entries {
            assertAllClose(model.parameters[e.name].array, try f.file.floats("final." + e.name), rtol: 1e-3, atol: 2e-4, "final.\(e.name)")
        }
    }
}
