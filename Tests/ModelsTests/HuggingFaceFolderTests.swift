import Foundation
import IO
import Models
import Tensor
import TestSupport
import XCTest

final class HuggingFaceFolderTests: XCTestCase {
    let cfg = LlamaConfig(vocabSize: 17, hiddenSize: 16, intermediateSize: 24, layers: 2, heads: 4, kvHeads: 2,
                          contextLength: 32, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: true)

    func write(_ json: String, _ path: URL) throws { try json.write(to: path, atomically: true, encoding: .utf8) }

    func testLlamaFolderSingleAndShardedRoundTrip() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("hf-llama")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try LlamaModel(config: cfg, seed: 3)
        let enc = JSONEncoder()
        var json = try JSONSerialization.jsonObject(with: enc.encode(cfg)) as! [String: Any]
        json["model_type"] = "llama"
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
        var w = SafetensorsWriter()
        for e in model.parameters.entries { w.add(e.name, model.parameters[e.name]) }
        try w.write(to: dir.appendingPathComponent("model.safetensors").path, dtype: .bf16)
        let loaded = try HuggingFaceFolder(path: dir.path).loadLlama()
        let tokens: [Int32] = [1, 5, 9, 16, 0, 3]
        // bf16 storage: compare against the model rounded the same way
        for e in model.parameters.entries {
            let p = model.parameters.pointer(e.name)
            for i in 0..<e.count { p[i] = HalfConversion.bfloat16BitsToFloat(HalfConversion.floatToBFloat16Bits(p[i])) }
        }
        XCTAssertEqual(try loaded.logits(tokens: tokens, batch: 1, seq: 6).array, try model.logits(tokens: tokens, batch: 1, seq: 6).array)

        // sharded: two files and an index
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model.safetensors"))
        var a = SafetensorsWriter(), b = SafetensorsWriter()
        var map: [String: String] = [:]
        for (i, e) in model.parameters.entries.enumerated() {
            if i % 2 == 0 { a.add(e.name, model.parameters[e.name]); map[e.name] = "model-00001-of-00002.safetensors" }
            else { b.add(e.name, model.parameters[e.name]); map[e.name] = "model-00002-of-00002.safetensors" }
        }
        try a.write(to: dir.appendingPathComponent("model-00001-of-00002.safetensors").path)
        try b.write(to: dir.appendingPathComponent("model-00002-of-00002.safetensors").path)
        try JSONSerialization.data(withJSONObject: ["metadata": [:], "weight_map": map]).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        let sharded = try HuggingFaceFolder(path: dir.path).loadLlama()
        XCTAssertEqual(sharded.parameters.buffer.buffer.map { $0 }, model.parameters.buffer.buffer.map { $0 })

        // a shape that disagrees with the config is refused with the tensor's name
        json["intermediate_size"] = 20
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try HuggingFaceFolder(path: dir.path).loadLlama()) { XCTAssertTrue("\($0)".contains("gate_proj"), "\($0)") }
        XCTAssertThrowsError(try HuggingFaceFolder(path: dir.appendingPathComponent("missing").path)) { XCTAssertTrue("\($0)".contains("not found")) }
    }

    func testGPT2FolderTransposesConv1DWeights() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("hf-gpt2")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = GPT2Config(vocabSize: 20, contextLength: 16, layers: 2, heads: 2, embeddingSize: 8)
        let model = try GPT2Model(config: config, seed: 4)
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        json["model_type"] = "gpt2"
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
        // write as Hugging Face's GPT2Model does: no "transformer." prefix, Conv1D weights [in, out]
        var w = SafetensorsWriter()
        for e in model.parameters.entries {
            let name = String(e.name.dropFirst("transformer.".count))
            let t = model.parameters[e.name]
            if e.shape.count == 2 && (e.name.contains(".attn.") || e.name.contains(".mlp.")) {
                let (r, c) = (e.shape[0], e.shape[1])
                let tr = Tensor(zeros: [c, r])
                for i in 0..<r { for j in 0..<c { tr[j * r + i] = t[i * c + j] } }
                w.add(name, tr)
            } else {
                w.add(name, t)
            }
        }
        try w.write(to: dir.appendingPathComponent("model.safetensors").path)
        let loaded = try HuggingFaceFolder(path: dir.path).loadGPT2()
        XCTAssertEqual(loaded.parameters.buffer.buffer.map { $0 }, model.parameters.buffer.buffer.map { $0 })
    }

    func testGGUFNameMappingAndRotaryPermutation() {
        XCTAssertEqual(TensorNameMapping.ggufName(forLlama: "model.layers.3.self_attn.q_proj.weight"), "blk.3.attn_q.weight")
        XCTAssertEqual(TensorNameMapping.ggufName(forLlama: "model.layers.0.mlp.down_proj.weight"), "blk.0.ffn_down.weight")
        XCTAssertEqual(TensorNameMapping.ggufName(forLlama: "model.embed_tokens.weight"), "token_embd.weight")
        XCTAssertNil(TensorNameMapping.ggufName(forLlama: "model.layers.0.self_attn.rotary_emb.inv_freq"))
        XCTAssertEqual(TensorNameMapping.ggufName(forGPT2: "transformer.h.1.attn.c_attn.bias"), "blk.1.attn_qkv.bias")
        // llama.cpp's permute: reshape(heads, 2, d/2).swapaxes(1, 2) -- for d = 4: HF rows [0,1,2,3] -> GGUF [0,2,1,3]
        XCTAssertEqual((0..<8).map { TensorNameMapping.huggingFaceRow(forGGUFRow: $0, headDim: 4) }, [0, 2, 1, 3, 4, 6, 5, 7])
        // permuting to HF and back is the identity
        let src: [UInt8] = Array(0..<24)
        var hf = [UInt8](repeating: 0, count: 24), back = hf
        TensorNameMapping.permuteRotaryRows(src, &hf, rows: 8, rowBytes: 3, headDim: 4, toHuggingFace: true)
        TensorNameMapping.permuteRotaryRows(hf, &back, rows: 8, rowBytes: 3, headDim: 4, toHuggingFace: false)
        XCTAssertEqual(back, src)
        XCTAssertNotEqual(hf, src)
    }
}
