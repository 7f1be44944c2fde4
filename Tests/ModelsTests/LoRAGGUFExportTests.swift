import Foundation
import IO
import Models
import Tensor
import TestSupport
import XCTest

/// GGUF LoRA files as llama.cpp's convert_lora_to_gguf.py writes them: metadata, names, shapes,
/// rotary row order of B for q/k, and rsLoRA folded into alpha.
final class LoRAGGUFExportTests: XCTestCase {
    func testLlamaAdapterLayoutAndMetadata() throws {
        let c = LoRATestSupport.llama
        let config = try LoRAConfig(rank: 4, alpha: 8, useRSLoRA: true, targets: LoRATarget.parseList("q,k,v,o,gate,up,down"))
        let adapter = try LoRATestSupport.randomAdapter(config, base: .llama(c), seed: 9)
        let dir = try FixturePaths.makeTemporaryDirectory("lora-gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("adapter.gguf").path
        try LoRAGGUFExporter.write(adapter, to: path, name: "test adapter")
        let f = try GGUFFile(path: path)
        XCTAssertEqual(try f.string("general.type"), "adapter")
        XCTAssertEqual(try f.string("general.architecture"), "llama")
        XCTAssertEqual(try f.string("adapter.type"), "lora")
        // llama.cpp scales by alpha / r with r read from the tensors: alpha' = (8 / sqrt(4)) * 4 = 16
        XCTAssertEqual(try f.float("adapter.lora.alpha"), 16)
        XCTAssertEqual(f.tensors.count, 28)
        let names = Set(f.tensors.map(\.name))
        for l in 0..<2 {
            for g in ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"] {
                XCTAssertTrue(names.contains("blk.\(l).\(g).weight.lora_a") && names.contains("blk.\(l).\(g).weight.lora_b"), "\(l) \(g)")
            }
        }
        let qa = try f.tensor(named: "blk.1.attn_q.weight.lora_a"), qb = try f.tensor(named: "blk.1.attn_q.weight.lora_b")
        XCTAssertEqual(qa.dimensions, [32, 4], "ne = [in, r]")
        XCTAssertEqual(qb.dimensions, [4, 32], "ne = [r, out]")
        XCTAssertEqual(try f.tensor(named: "blk.0.ffn_down.weight.lora_a").dimensions, [48, 4])
        XCTAssertEqual(try f.tensor(named: "blk.0.attn_k.weight.lora_b").dimensions, [4, 16])

        // The update B A in GGUF must equal the Hugging Face update with its rows in llama.cpp's rotary
        // order, built here from the definition (within head h, row h*d + 2j + a holds HF row h*d + a*d/2 + j).
        let d = c.headDim
        for (module, gguf) in [("model.layers.1.self_attn.q_proj", "blk.1.attn_q"), ("model.layers.0.self_attn.k_proj", "blk.0.attn_k"),
                               ("model.layers.0.self_attn.v_proj", "blk.0.attn_v")] {
            let m = try XCTUnwrap(adapter.module(named: module))
            let b = adapter.b(m).array, stored = try f.floats(gguf + ".weight.lora_b")
            XCTAssertEqual(try f.floats(gguf + ".weight.lora_a"), adapter.a(m).array, module)
            for row in 0..<m.outFeatures {
                let h = row / d, within = row % d
                let hfRow = m.target == .value ? row : h * d + (within % 2) * (d / 2) + within / 2
                XCTAssertEqual(Array(stored[(row * 4)..<(row * 4 + 4)]), Array(b[(hfRow * 4)..<(hfRow * 4 + 4)]), "\(module) row \(row)")
            }
        }

        let half = dir.appendingPathComponent("adapter-f16.gguf").path
        try LoRAGGUFExporter.write(adapter, to: half, type: .f16)
        let h = try GGUFFile(path: half)
        XCTAssertEqual(try h.tensor(named: "blk.0.attn_v.weight.lora_a").type, .f16)
        let m = try XCTUnwrap(adapter.module(named: "model.layers.0.self_attn.v_proj"))
        assertAllClose(try h.floats("blk.0.attn_v.weight.lora_a"), adapter.a(m).array, rtol: 1e-3, atol: 1e-4, "F16")
        XCTAssertThrowsError(try LoRAGGUFExporter.write(adapter, to: half, type: .q4_0))
    }

    func testGPT2AdapterNamesAndPlainAlpha() throws {
        let config = try LoRAConfig(rank: 2, alpha: 6, targets: LoRATarget.parseList("c_attn,c_proj,c_fc"))
        let adapter = try LoRATestSupport.randomAdapter(config, base: .gpt2(LoRATestSupport.gpt2), seed: 4)
        let data = try XCTUnwrap(FixturePaths.makeTemporaryDirectory("lora-gguf-gpt2"))
        defer { try? FileManager.default.removeItem(at: data) }
        let path = data.appendingPathComponent("a.gguf").path
        try LoRAGGUFExporter.write(adapter, to: path)
        let f = try GGUFFile(path: path)
        XCTAssertEqual(try f.string("general.architecture"), "gpt2")
        XCTAssertEqual(try f.float("adapter.lora.alpha"), 6)
        XCTAssertEqual(try f.tensor(named: "blk.0.attn_qkv.weight.lora_b").dimensions, [2, 96])
        XCTAssertEqual(try f.tensor(named: "blk.1.ffn_down.weight.lora_a").dimensions, [128, 2])
        XCTAssertEqual(Set(f.tensors.map(\.name)).count, 16)
        let m = try XCTUnwrap(adapter.module(named: "transformer.h.0.attn.c_attn"))
        XCTAssertEqual(try f.floats("blk.0.attn_qkv.weight.lora_b"), adapter.b(m).array, "no row permutation for GPT-2")
    }
}
