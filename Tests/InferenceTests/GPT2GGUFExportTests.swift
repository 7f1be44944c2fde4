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

/// A (factorised) fingpt GPT-2 checkpoint exported as GGUF runs in llama.cpp's gpt2 architecture and
/// generates the same greedy tokens as our runtime.
final class GPT2GGUFExportTests: XCTestCase {
    /// Printable ASCII in GPT-2's byte-level spelling plus newline and end of text (id 96).
    static var vocabulary: [String] {
        (0x20...0x7E).map { $0 == 0x20 ? "Ġ" : String(UnicodeScalar(UInt8($0))) } + ["Ċ", "<|endoftext|>"]
    }

    func tokenizer() throws -> BPETokenizer {
        try BPETokenizer(tokens: Self.vocabulary, tokenTypes: Array(repeating: .normal, count: 96) + [.control], merges: [],
                         preTokenizer: .gpt2, bosID: 96, eosID: 96)
    }

    func testFactorisedGPT2RunsInLlamaCppLikeOurRuntime() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("gpt2-gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = GPT2Config(vocabSize: 97, contextLength: 64, layers: 2, heads: 2, embeddingSize: 64)
        let model = try GPT2Model(config: try base.withLowRank(try LowRankPlan(parsing: "qkv=16,mlp_up=32")), seed: 5)
        var rng = RandomGenerator(seed: 6)
        for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: e.name.contains("wte") ? 1 : 0.3) }
        let ckpt = dir.appendingPathComponent("gpt2.bin").path
        try Checkpoint.save(to: ckpt, model: model, optimizer: nil, training: nil, step: 0, dataState: nil)
        let tokPath = dir.appendingPathComponent("tok.gguf").path
        let tokModel = try GPT2Model(config: base)
        try GGUFExporter.writeGPT2(model: tokModel, tokenizer: try tokenizer(), type: .f32, name: "tokenizer only", to: tokPath)
        let gguf = dir.appendingPathComponent("gpt2.gguf").path
        XCTAssertTrue(try ModelConverter.convert(input: ckpt, output: gguf, target: .f32, tokenizerPath: tokPath).contains("merged"))
        let file = try GGUFFile(path: gguf)
        XCTAssertEqual(file.architecture, "gpt2")
        XCTAssertEqual(try file.tensor(named: "blk.1.attn_qkv.weight").rowMajorShape, [192, 64])
        // greedy tokens of our runtime (end of text excluded, as llama.cpp's --ignore-eos)
        let prompt = "Fed holds rates"
        var seq = prompt.utf8.map { Int32($0) - 0x20 }
        let promptCount = seq.count
        for _ in 0..<12 {
            let logits = try model.lastLogits(tokens: seq)
            var best = 0
            for (i, x) in logits.enumerated() where i != 96 && x > logits[best] { best = i }
            seq.append(Int32(best))
        }
        guard let binary = LlamaCppCompletion.binary else { throw XCTSkip("llama.cpp's llama-completion not built (bash bench/build_llamacpp.sh)") }
        let theirs = try LlamaCppCompletion.tokens(binary, model: gguf, prompt: prompt, count: 12)
        XCTAssertEqual(Array(theirs.prefix(promptCount)), Array(seq.prefix(promptCount)), "same prompt tokens")
        XCTAssertEqual(Array(theirs.dropFirst(promptCount)), Array(seq.dropFirst(promptCount)), "same greedy continuation")
    }
}
