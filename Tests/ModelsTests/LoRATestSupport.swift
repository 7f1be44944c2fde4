import Foundation
import IO
import Models
import Tensor
import XCTest

/// Shared pieces of the LoRA tests: fixture locations (written by dev/make_peft_golden.py), tiny
/// base models and adapters with non-zero B (a fresh adapter's B is zero and would hide mistakes).
enum LoRATestSupport {
    static func fixture(_ name: String) throws -> String {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/lora", withExtension: nil), "LoRA fixtures missing")
        return url.appendingPathComponent(name).path
    }

    static let llama = LlamaConfig(vocabSize: 64, hiddenSize: 32, intermediateSize: 48, layers: 2, heads: 4, kvHeads: 2,
                                   contextLength: 64, tieWordEmbeddings: false)
    static let gpt2 = GPT2Config(vocabSize: 64, contextLength: 32, layers: 2, heads: 4, embeddingSize: 32)

    /// An adapter with PEFT's initialisation followed by B ~ N(0, bStd).
    static func randomAdapter(_ config: LoRAConfig, base: LoRABaseModel, seed: UInt64, bStd: Float = 0.2) throws -> LoRAAdapter {
        var rng = RandomGenerator(seed: seed)
        let adapter = try LoRAAdapter(config: config, base: base, rng: &rng)
        for m in adapter.modules { rng.fillNormal(adapter.b(m).buffer, std: bStd) }
        return adapter
    }

    /// Runs `body` and returns the error's description, failing when nothing is thrown.
    static func errorText(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            try body()
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }
}
