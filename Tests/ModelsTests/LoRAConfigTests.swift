import Foundation
import IO
import Models
import TestSupport
import XCTest

/// LoRA configuration: target names, scaling, and PEFT's adapter_config.json in both directions.
final class LoRAConfigTests: XCTestCase {
    func testParsesTargetListsForBothArchitectures() throws {
        XCTAssertEqual(try LoRATarget.parseList("q,k,v,o,gate,up,down"), [.query, .key, .value, .output, .gate, .up, .down])
        XCTAssertEqual(try LoRATarget.parseList(" q_proj , down_proj,q "), [.query, .down])
        XCTAssertEqual(try LoRATarget.parseList("c_attn,attn.c_proj,c_fc,mlp.c_proj"),
                       [.gpt2Attention, .gpt2AttentionOutput, .gpt2MLPUp, .gpt2MLPOutput])
        XCTAssertEqual(try LoRATarget.parseList("c_proj"), [.gpt2AttentionOutput, .gpt2MLPOutput], "PEFT's suffix rule")
        XCTAssertEqual(LoRATarget.matching(peftName: "model.layers.3.self_attn.k_proj"), [.key])
        let message = LoRATestSupport.errorText { _ = try LoRATarget.parseList("q,qkv_proj") }
        XCTAssertTrue(message.contains("'qkv_proj'") && message.contains("gate"), message)
        XCTAssertThrowsError(try LoRATarget.parseList(" , "))
    }

    func testScalingIsAlphaOverRankOrOverSquareRootOfRank() throws {
        XCTAssertEqual(try LoRAConfig(rank: 16, alpha: 32, targets: [.query]).scaling, 2)
        XCTAssertEqual(try LoRAConfig(rank: 16, alpha: 32, useRSLoRA: true, targets: [.query]).scaling, 8)
        XCTAssertEqual(try LoRAConfig(rank: 3, alpha: 1, useRSLoRA: true, targets: [.up]).scaling, 1 / Float(3).squareRoot(), accuracy: 1e-7)
    }

    func testRejectsBadSettings() {
        for (build, key) in [({ try LoRAConfig(rank: 0, alpha: 8, targets: [.query]) }, "'r'"),
                             ({ try LoRAConfig(rank: 4, alpha: .nan, targets: [.query]) }, "lora_alpha"),
                             ({ try LoRAConfig(rank: 4, alpha: 8, dropout: 1, targets: [.query]) }, "lora_dropout"),
                             ({ try LoRAConfig(rank: 4, alpha: 8, targets: []) }, "target_modules"),
                             ({ try LoRAConfig(rank: 4, alpha: 8, targets: [.query, .gpt2MLPUp]) }, "mixes"),
                             ({ try LoRAConfig(rank: 4, alpha: 8, targets: [.query], layers: [-1]) }, "layers_to_transform"),
                             ({ try LoRAConfig(rank: 4, alpha: 8, targets: [.query], layers: [1, 1]) }, "layers_to_transform"),
                             ({ var c = try LoRAConfig(rank: 4, alpha: 8, targets: [.query]); c.targets.append(.query); try c.validate(); return c }, "twice")] as [(() throws -> LoRAConfig, String)] {
            let message = LoRATestSupport.errorText { _ = try build() }
            XCTAssertTrue(message.contains(key), message)
        }
    }

    func testEncodesPEFTFieldsAndRoundTrips() throws {
        let llama = try LoRAConfig(rank: 8, alpha: 16, dropout: 0.05, useRSLoRA: true, targets: [.query, .value, .down],
                                   layers: [1], baseModelNameOrPath: "HuggingFaceTB/SmolLM2-135M-Instruct")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(llama)) as? [String: Any])
        XCTAssertEqual(json["peft_type"] as? String, "LORA")
        XCTAssertEqual(json["task_type"] as? String, "CAUSAL_LM")
        XCTAssertEqual(json["r"] as? Int, 8)
        XCTAssertEqual((json["lora_alpha"] as? NSNumber)?.floatValue, 16)
        XCTAssertEqual((json["lora_dropout"] as? NSNumber)?.floatValue ?? -1, 0.05, accuracy: 1e-7)
        XCTAssertEqual(json["use_rslora"] as? Bool, true)
        XCTAssertEqual(json["target_modules"] as? [String], ["q_proj", "v_proj", "down_proj"])
        XCTAssertEqual(json["layers_to_transform"] as? [Int], [1])
        XCTAssertEqual(json["bias"] as? String, "none")
        XCTAssertEqual(json["fan_in_fan_out"] as? Bool, false)
        XCTAssertEqual(json["base_model_name_or_path"] as? String, "HuggingFaceTB/SmolLM2-135M-Instruct")
        XCTAssertEqual(try JSONDecoder().decode(LoRAConfig.self, from: JSONEncoder().encode(llama)), llama)

        let gpt2 = try LoRAConfig(rank: 4, alpha: 4, targets: LoRATarget.parseList("c_attn,c_proj"))
        let g = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(gpt2)) as? [String: Any])
        XCTAssertEqual(g["fan_in_fan_out"] as? Bool, true, "GPT-2's Hugging Face layers are Conv1D")
        XCTAssertEqual(g["target_modules"] as? [String], ["c_attn", "attn.c_proj", "mlp.c_proj"])
        XCTAssertEqual(try JSONDecoder().decode(LoRAConfig.self, from: JSONEncoder().encode(gpt2)), gpt2)
    }

    func testReadsConfigsWrittenByPEFT() throws {
        let llama = try LoRAPEFTFormat.readConfig(LoRATestSupport.fixture("llama_adapter/adapter_config.json"))
        XCTAssertEqual(llama.rank, 4)
        XCTAssertEqual(llama.alpha, 8)
        XCTAssertTrue(llama.useRSLoRA)
        XCTAssertEqual(llama.scaling, 4)
        XCTAssertEqual(llama.dropout, 0.05, accuracy: 1e-7)
        XCTAssertEqual(Set(llama.targets), Set([.query, .key, .value, .output, .gate, .up, .down]))
        XCTAssertEqual(llama.baseModelNameOrPath, "tiny-llama")
        XCTAssertNil(llama.layers)
        let gpt2 = try LoRAPEFTFormat.readConfig(LoRATestSupport.fixture("gpt2_adapter/adapter_config.json"))
        XCTAssertEqual(gpt2.rank, 3)
        XCTAssertEqual(gpt2.scaling, 2)
        XCTAssertEqual(Set(gpt2.targets), Set([.gpt2Attention, .gpt2AttentionOutput, .gpt2MLPUp, .gpt2MLPOutput]))
    }

    func testBadConfigFilesNameTheFileAndKey() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("lora-config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = #""peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]"#
        let cases: [(String, String)] = [
            (#"{"peft_type": "PREFIX_TUNING", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]}"#, "peft_type"),
            (#"{"peft_type": "LORA", "lora_alpha": 8, "target_modules": ["q_proj"]}"#, "'r'"),
            (#"{"peft_type": "LORA", "r": "four", "lora_alpha": 8, "target_modules": ["q_proj"]}"#, "'r'"),
            (#"{"peft_type": "LORA", "r": 0, "lora_alpha": 8, "target_modules": ["q_proj"]}"#, "'r'"),
            (#"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "qkv"]}"#, "'qkv'"),
            (#"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ".*proj"}"#, "regular expression"),
            ("{\(good), \"use_dora\": true}", "use_dora"),
            ("{\(good), \"rank_pattern\": {\"q_proj\": 8}}", "rank_pattern"),
            ("{\(good), \"bias\": \"all\"}", "bias"),
            ("{\(good), \"modules_to_save\": [\"lm_head\"]}", "modules_to_save"),
            (#"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "c_attn"]}"#, "mixes"),
            ("[1, 2]", "top level"),
            ("{\"peft_type\": ", "not valid JSON"),
        ]
        for (i, (text, expected)) in cases.enumerated() {
            let path = dir.appendingPathComponent("config\(i).json").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let message = LoRATestSupport.errorText { _ = try LoRAPEFTFormat.readConfig(path) }
            XCTAssertTrue(message.contains(path) && message.contains(expected), "case \(i): \(message)")
        }
        let accepted = dir.appendingPathComponent("ok.json").path
        try Data(#"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "layers_to_transform": 1, "target_modules": "up_proj"}"#.utf8).write(to: URL(fileURLWithPath: accepted))
        let config = try LoRAPEFTFormat.readConfig(accepted)
        XCTAssertEqual(config.layers, [1])
        XCTAssertEqual(config.targets, [.up])
        XCTAssertThrowsError(try LoRAPEFTFormat.readConfig(dir.appendingPathComponent("absent.json").path)) {
            XCTAssertEqual($0 as? IOError, .fileNotFound(path: dir.appendingPathComponent("absent.json").path))
        }
    }
}
