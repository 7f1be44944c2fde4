import Evaluation
import Foundation
import Inference
import IO
import Models
import Tensor
import TestSupport
import Tokenizers
import XCTest

/// The real SmolLM2-135M-Instruct Q4_1 file: quantized inference against the float model and
/// against Hugging Face transformers' logits (fixture written by dev/make_smollm2_reference.py).
final class SmolLM2InferenceTests: XCTestCase {
    func modelPath() throws -> String {
        guard let p = FixturePaths.smolLM2Model else { throw XCTSkip("SmolLM2 GGUF not found; run `make setup`") }
        return p
    }

    func testQuantizedRunnerMatchesDequantizedFloatModel() throws {
        let gguf = try GGUFFile(path: try modelPath())
        let runner = try GGUFModelLoader.llamaRunner(gguf: gguf, maxContext: 64)
        let float = try GGUFModelLoader.llamaModel(gguf: gguf)
        let tokenizer = try BPETokenizer(gguf: gguf)
        let tokens = tokenizer.encode("Quarterly revenue rose 8% to $4.2 billion, and the board raised the dividend.")
        let reference = try float.logits(tokens: tokens, batch: 1, seq: tokens.count).array
        let v = float.config.vocabSize
        // prompt path (tiled dequantize + sgemm): same weights, so only summation order differs
        let prompt = try runner.forward(tokens, allLogits: true)
        assertAllClose(prompt, reference, rtol: 1e-3, atol: 2e-3, "prompt logits")
        // cached single-token path (int8 activations): top-1 agrees at every position
        runner.reset()
        _ = try runner.forward([tokens[0]])
        for i in 1..<tokens.count {
            let step = try runner.forward([tokens[i]])
            let row = Array(reference[(i * v)..<((i + 1) * v)])
            XCTAssertEqual(step.indices.max { step[$0] < step[$1] }, row.indices.max { row[$0] < row[$1] }, "top-1 at \(i)")
        }
        XCTAssertLessThan(runner.weightBytes, 110_000_000, "weights stay quantized (about 98 MB), not 540 MB of float32")
    }

    func testAgreesWithHuggingFaceReference() throws {
        let path = try modelPath()
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/smollm2_reference", withExtension: "safetensors"))
        let fixture = try SafetensorsFile(path: url.path)
        let tokens = try fixture.int32s("tokens"), top1 = try fixture.int32s("top1"), nll = try fixture.floats("nll")
        let loaded = try LanguageModelLoader.load(path: path, maxContext: tokens.count)
        // the tokenizer reproduces the reference tokenization of the stored text
        if let text = fixture.metadata["text"] { XCTAssertEqual(loaded.tokenizer.encode(text, allowSpecial: false, addBOS: false), tokens) }
        let logits = try loaded.model.forward(tokens, allLogits: true)
        let v = loaded.model.vocabularySize
        var agree = 0
        var ours = 0.0
        for t in 0..<tokens.count {
            let row = Array(logits[(t * v)..<((t + 1) * v)])
            if Int32(row.indices.max { row[$0] < row[$1] }!) == top1[t] { agree += 1 }
            if t + 1 < tokens.count {
                var r = row
                let lse = r.withUnsafeMutableBufferPointer { Kernels.softmaxInPlace($0.baseAddress!, count: v) }
                ours += Double(lse - row[Int(tokens[t + 1])])
            }
        }
        let agreement = Double(agree) / Double(tokens.count)
        let pplOurs = exp(ours / Double(tokens.count - 1))
        let pplRef = exp(nll.reduce(0.0) { $0 + Double($1) } / Double(nll.count))
        print(String(format: "SmolLM2 vs transformers: top-1 agreement %.4f, perplexity %.4f vs %.4f", agreement, pplOurs, pplRef))
        XCTAssertGreaterThanOrEqual(agreement, 0.99)
        XCTAssertEqual(pplOurs, pplRef, accuracy: pplRef * 0.01)
        // full logits rows agree closely
        let positions = try fixture.int32s("logits_positions"), rows = try fixture.floats("logits_rows")
        for (i, p) in positions.enumerated() {
            let ours = Array(logits[(Int(p) * v)..<((Int(p) + 1) * v)]), ref = Array(rows[(i * v)..<((i + 1) * v)])
            let maxDiff = zip(ours, ref).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(maxDiff, 0.05, "logits at position \(p)")
        }
    }

    func testChatKeepsTheCacheInStepWithTheConversation() throws {
        let loaded = try LanguageModelLoader.load(path: try modelPath(), maxContext: 512)
        var options = GenerationOptions()
        options.maxNewTokens = 12
        let session = ChatSession(loaded: loaded, system: "Answer in one short sentence.", options: options)
        let first = try session.send("What is inflation?") { _ in }
        XCTAssertFalse(first.reply.isEmpty)
        _ = try session.send("And deflation?") { _ in }
        let rendered = ChatTemplate.chatML.render(session.messages, addGenerationPrompt: false)
        let expected = loaded.tokenizer.encode(rendered, allowSpecial: true, addBOS: false)
        XCTAssertEqual(loaded.model.position, expected.count, "the cache holds exactly the rendered conversation")
    }
}
