import Foundation
import IO
import Models
import Tensor
import TestSupport
import XCTest

/// llama.cpp loads our GGUF LoRA with `--lora` on top of a tiny LLaMA and generates the same greedy
/// tokens as our runtime running the merged model. Needs llama.cpp's llama-completion built by
/// bench/build_llamacpp.sh (or a folder holding it in FINGPT_LLAMA_CPP_BIN); skips otherwise.
///
/// The tiny model has a 97-token byte vocabulary (printable ASCII, newline, <|endoftext|>) and no
/// BPE merges, so every prompt character is one token: the prompt is tokenized without a tokenizer,
/// and llama.cpp's token ids (from its saved session) are compared with ours.
final class LoRALlamaCppTests: XCTestCase {
    static var llamaCompletion: String? { LlamaCppCompletion.binary }

    static let endOfText: Int32 = 96
    static let config = LlamaConfig(vocabSize: 97, hiddenSize: 64, intermediateSize: 128, layers: 2, heads: 4, kvHeads: 2,
                                    contextLength: 64, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: false)

    /// Token strings in GPT-2's byte-level spelling: bytes 0x20...0x7E (space is "Ġ"), newline "Ċ", end of text.
    static var vocabulary: [String] {
        (0x20...0x7E).map { $0 == 0x20 ? "Ġ" : String(UnicodeScalar(UInt8($0))) } + ["Ċ", "<|endoftext|>"]
    }

    static func tokens(_ text: String) -> [Int32] { text.utf8.map { Int32($0) - 0x20 } }
    static func text(_ tokens: [Int32]) -> String { String(decoding: tokens.map { $0 == 95 ? 0x0A : UInt8($0 + 0x20) }, as: UTF8.self) }

    /// A random base model with weights large enough for clear greedy choices.
    func makeBase() throws -> LlamaModel {
        let model = try LlamaModel(config: Self.config)
        var rng = RandomGenerator(seed: 2024)
        for e in model.parameters.entries {
            let t = model.parameters[e.name]
            if e.shape.count == 1 { t.fill(1) } else { rng.fillNormal(t.buffer, std: e.name.contains("embed") ? 1 : 0.25) }
        }
        return model
    }

    /// The base model as a llama.cpp GGUF (F32, q/k rows in llama.cpp's rotary order).
    func writeBaseGGUF(_ model: LlamaModel, to path: String) throws {
        let c = model.config
        var w = try GGUFWriter()
        let u = { (v: Int) in GGUFValue.uint32(UInt32(v)) }
        for (key, value) in [("general.architecture", GGUFValue.string("llama")), ("general.name", .string("lora test base")),
                             ("llama.context_length", u(c.contextLength)), ("llama.embedding_length", u(c.hiddenSize)),
                             ("llama.block_count", u(c.layers)), ("llama.feed_forward_length", u(c.intermediateSize)),
                             ("llama.attention.head_count", u(c.heads)), ("llama.attention.head_count_kv", u(c.kvHeads)),
                             ("llama.attention.layer_norm_rms_epsilon", .float32(c.rmsNormEpsilon)), ("llama.rope.freq_base", .float32(c.ropeTheta)),
                             ("llama.rope.dimension_count", u(c.headDim)), ("llama.vocab_size", u(c.vocabSize)),
                             ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("default")),
                             ("tokenizer.ggml.tokens", .array(elementType: .string, values: Self.vocabulary.map { .string($0) })),
                             ("tokenizer.ggml.token_type", .array(elementType: .int32, values: (0..<97).map { .int32($0 == 96 ? 3 : 1) })),
                             ("tokenizer.ggml.merges", .array(elementType: .string, values: [])),
                             ("tokenizer.ggml.bos_token_id", u(96)), ("tokenizer.ggml.eos_token_id", u(96)),
                             ("tokenizer.ggml.add_bos_token", .bool(false))] {
            w.setValue(value, forKey: key)
        }
        for e in model.parameters.entries {
            guard let name = TensorNameMapping.ggufName(forLlama: e.name) else { continue }
            var t = model.parameters[e.name]
            if e.name.hasSuffix("q_proj.weight") || e.name.hasSuffix("k_proj.weight") {
                let permuted = Tensor(zeros: t.shape)
                TensorNameMapping.permuteRotaryRows(t.pointer, permuted.pointer, rows: t.shape[0], rowBytes: t.shape[1] * 4,
                                                    headDim: c.headDim, toHuggingFace: false)
                t = permuted
            }
            try w.addTensor(name, t, as: .f32)
        }
        try w.write(to: path)
    }

    /// Greedy continuation by our runtime (full forward per step; end of text excluded, as --ignore-eos does).
    func greedy(_ model: LlamaModel, prompt: [Int32], count: Int) throws -> [Int32] {
        var seq = prompt
        for _ in 0..<count {
            let logits = try model.logits(tokens: seq, batch: 1, seq: seq.count)
            let v = model.config.vocabSize, last = logits.array[((seq.count - 1) * v)..<(seq.count * v)]
            var best = 0
            for (i, x) in last.enumerated() where Int32(i) != Self.endOfText && x > last[last.startIndex + best] { best = i }
            seq.append(Int32(best))
        }
        return Array(seq.dropFirst(prompt.count))
    }

    func runLlamaCpp(_ binary: String, model: String, lora: String?, prompt: String, count: Int) throws -> [Int32] {
        try LlamaCppCompletion.tokens(binary, model: model, lora: lora, prompt: prompt, count: count)
    }

    func testLlamaCppAppliesOurLoRALikeTheMergedModel() throws {
        guard let binary = Self.llamaCompletion else { throw XCTSkip("llama.cpp's llama-completion not built (bash bench/build_llamacpp.sh)") }
        let dir = try FixturePaths.makeTemporaryDirectory("lora-llamacpp")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try makeBase()
        let basePath = dir.appendingPathComponent("base.gguf").path, loraPath = dir.appendingPathComponent("lora.gguf").path
        try writeBaseGGUF(model, to: basePath)
        // rsLoRA so that the alpha written for llama.cpp (scaling * r) differs from lora_alpha
        let config = try LoRAConfig(rank: 4, alpha: 8, useRSLoRA: true, targets: LoRATarget.parseList("q,k,v,o,gate,up,down"))
        let adapter = try LoRATestSupport.randomAdapter(config, base: .llama(Self.config), seed: 77, bStd: 0.3)
        try LoRAGGUFExporter.write(adapter, to: loraPath)

        let prompt = "The bank raised rates", promptTokens = Self.tokens(prompt)
        let n = 16
        let ourBase = try greedy(model, prompt: promptTokens, count: n)
        try LoRAMerge.merge(adapter, into: model)
        let ourLoRA = try greedy(model, prompt: promptTokens, count: n)
        XCTAssertNotEqual(ourBase, ourLoRA, "the adapter changes the greedy tokens")

        let theirBase = try runLlamaCpp(binary, model: basePath, lora: nil, prompt: prompt, count: n)
        let theirLoRA = try runLlamaCpp(binary, model: basePath, lora: loraPath, prompt: prompt, count: n)
        XCTAssertEqual(theirBase, promptTokens + ourBase, "base: llama.cpp \(Self.text(theirBase).debugDescription), ours \(Self.text(ourBase).debugDescription)")
        XCTAssertEqual(theirLoRA, promptTokens + ourLoRA, "LoRA: llama.cpp \(Self.text(theirLoRA).debugDescription), ours \(Self.text(ourLoRA).debugDescription)")
    }
}
