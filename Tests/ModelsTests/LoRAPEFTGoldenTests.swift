import Foundation
import IO
import Models
import Tensor
import TestSupport
import XCTest

/// Adapters written by Hugging Face PEFT (fixtures from dev/make_peft_golden.py), loaded and merged
/// into the same base weights, give PEFT's logits (base + unmerged adapter) for LLaMA and for
/// GPT-2 (whose Hugging Face layers are Conv1D with fan_in_fan_out).
final class LoRAPEFTGoldenTests: XCTestCase {
    struct Expected {
        let tokens: [Int32]
        let base: [Float]
        let peft: [Float]
    }

    func expected(_ model: String) throws -> Expected {
        let file = try SafetensorsFile(path: try LoRATestSupport.fixture("expected.safetensors"))
        XCTAssertEqual(try file.entry("tokens").shape, [2, 8])
        return Expected(tokens: try file.int32s("tokens"), base: try file.floats(model + ".base_logits"), peft: try file.floats(model + ".peft_logits"))
    }

    func testMergedLlamaMatchesPEFT() throws {
        let e = try expected("llama")
        let model = try HuggingFaceFolder(path: try LoRATestSupport.fixture("llama_base")).loadLlama()
        let base = try model.logits(tokens: e.tokens, batch: 2, seq: 8).array
        assertAllClose(base, e.base, rtol: 1e-4, atol: 1e-5, "base model")
        let adapter = try LoRAPEFTFormat.load(from: try LoRATestSupport.fixture("llama_adapter"), base: .llama(model.config))
        XCTAssertEqual(adapter.modules.count, 14)
        XCTAssertEqual(adapter.scaling, 4, "rsLoRA: 8 / sqrt(4)")
        try LoRAMerge.merge(adapter, into: model)
        let merged = try model.logits(tokens: e.tokens, batch: 2, seq: 8).array
        assertAllClose(merged, e.peft, rtol: 1e-4, atol: 2e-5, "merged vs PEFT")
        XCTAssertGreaterThan(zip(e.peft, e.base).map { abs($0 - $1) }.max()!, 0.5, "the adapter matters")
        try LoRAMerge.unmerge(adapter, from: model)
        assertAllClose(try model.logits(tokens: e.tokens, batch: 2, seq: 8).array, e.base, rtol: 1e-4, atol: 2e-5, "unmerged")
    }

    func testMergedGPT2MatchesPEFT() throws {
        let e = try expected("gpt2")
        let model = try HuggingFaceFolder(path: try LoRATestSupport.fixture("gpt2_base")).loadGPT2()
        assertAllClose(try model.logits(tokens: e.tokens, batch: 2, seq: 8).array, e.base, rtol: 1e-4, atol: 1e-5, "base model")
        let adapter = try LoRAPEFTFormat.load(from: try LoRATestSupport.fixture("gpt2_adapter"), base: .gpt2(model.config))
        XCTAssertEqual(adapter.modules.count, 8)
        XCTAssertTrue(adapter.config.fanInFanOut)
        try LoRAMerge.merge(adapter, into: model)
        assertAllClose(try model.logits(tokens: e.tokens, batch: 2, seq: 8).array, e.peft, rtol: 1e-4, atol: 2e-5, "merged vs PEFT")
        XCTAssertGreaterThan(zip(e.peft, e.base).map { abs($0 - $1) }.max()!, 0.5, "the adapter matters")
    }
}
