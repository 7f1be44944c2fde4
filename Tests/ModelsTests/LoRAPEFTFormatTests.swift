import Foundation
import IO
import Models
import Tensor
import TestSupport
import XCTest

/// Saving and loading PEFT adapter folders: round trips in every dtype, PEFT's key names, and clear
/// errors for broken files.
final class LoRAPEFTFormatTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try FixturePaths.makeTemporaryDirectory("lora-peft") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    let base = LoRABaseModel.llama(LoRATestSupport.llama)

    func makeAdapter() throws -> LoRAAdapter {
        let config = try LoRAConfig(rank: 4, alpha: 8, dropout: 0.1, useRSLoRA: true, targets: [.query, .key, .down], layers: [0, 1],
                                    baseModelNameOrPath: "tiny")
        return try LoRATestSupport.randomAdapter(config, base: base, seed: 21)
    }

    func testRoundTripKeepsConfigAndFactorsInEveryDType() throws {
        let adapter = try makeAdapter()
        let values = Array(UnsafeBufferPointer(start: adapter.parameters.buffer.pointer, count: adapter.parameters.buffer.count))
        for (dtype, round) in [(SafetensorsWriter.DType.f32, { (x: Float) in x }),
                               (.f16, { HalfConversion.halfBitsToFloat(HalfConversion.floatToHalfBits($0)) }),
                               (.bf16, { HalfConversion.bfloat16BitsToFloat(HalfConversion.floatToBFloat16Bits($0)) })] {
            let dir = directory.appendingPathComponent(dtype.rawValue).path
            try LoRAPEFTFormat.save(adapter, to: dir, dtype: dtype)
            let loaded = try LoRAPEFTFormat.load(from: dir, base: base)
            XCTAssertEqual(loaded.config, adapter.config)
            XCTAssertEqual(loaded.modules, adapter.modules)
            XCTAssertEqual(Array(UnsafeBufferPointer(start: loaded.parameters.buffer.pointer, count: values.count)), values.map(round), dtype.rawValue)
        }
        let file = try SafetensorsFile(path: directory.appendingPathComponent("F32/adapter_model.safetensors").path)
        XCTAssertEqual(file.names.count, 12)
        XCTAssertEqual(try file.entry("base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight").shape, [4, 32])
        XCTAssertEqual(try file.entry("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight").shape, [16, 4])
        XCTAssertEqual(try file.entry("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight").shape, [4, 48])
        XCTAssertEqual(file.metadata["format"], "pt")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("F32").path)
        XCTAssertEqual(Set(leftovers), ["adapter_config.json", "adapter_model.safetensors"], "no temporary files left")
    }

    func testOurFilesUsePEFTsKeysAndShapes() throws {
        // a PEFT-written adapter, loaded and saved again by us, lists the same tensors with the same shapes and values
        let peftDir = try LoRATestSupport.fixture("llama_adapter")
        let adapter = try LoRAPEFTFormat.load(from: peftDir, base: .llama(LoRATestSupport.llama))
        try LoRAPEFTFormat.save(adapter, to: directory.path)
        let theirs = try SafetensorsFile(path: peftDir + "/adapter_model.safetensors")
        let ours = try SafetensorsFile(path: directory.appendingPathComponent("adapter_model.safetensors").path)
        XCTAssertEqual(Set(ours.names), Set(theirs.names))
        for name in theirs.names {
            XCTAssertEqual(try ours.entry(name).shape, try theirs.entry(name).shape, name)
            XCTAssertEqual(try ours.floats(name), try theirs.floats(name), name)
        }
    }

    /// Writes an adapter folder whose weights file holds `tensors` (name -> shape, F32 zeros).
    func writeFolder(_ name: String, config: LoRAConfig, tensors: [(String, [Int])]) throws -> String {
        let dir = directory.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try AtomicFile.write(try JSONEncoder().encode(config), to: dir + "/adapter_config.json")
        var w = SafetensorsWriter()
        for (key, shape) in tensors { w.add(key, Tensor(zeros: shape)) }
        try w.write(to: dir + "/adapter_model.safetensors")
        return dir
    }

    func testBrokenFilesGiveErrorsNamingFileAndKey() throws {
        let config = try LoRAConfig(rank: 2, alpha: 4, targets: [.value])
        let p = "base_model.model.model.layers."
        let good: [(String, [Int])] = [(p + "0.self_attn.v_proj.lora_A.weight", [2, 32]), (p + "0.self_attn.v_proj.lora_B.weight", [16, 2]),
                                       (p + "1.self_attn.v_proj.lora_A.weight", [2, 32]), (p + "1.self_attn.v_proj.lora_B.weight", [16, 2])]
        XCTAssertNoThrow(try LoRAPEFTFormat.load(from: try writeFolder("good", config: config, tensors: good), base: base))
        let cases: [(String, [(String, [Int])], [String])] = [
            ("missing", Array(good.dropLast()), ["missing LoRA tensor", p + "1.self_attn.v_proj.lora_B.weight"]),
            ("shape", [good[0], (good[1].0, [32, 2])] + good[2...], ["\(p)0.self_attn.v_proj.lora_B.weight", "[32, 2]", "expected [16, 2]"]),
            ("rank", [(good[0].0, [3, 32]), good[1]] + good[2...], ["\(p)0.self_attn.v_proj.lora_A.weight", "rank 3", "r = 2"]),
            ("rankB", [good[0], (good[1].0, [16, 8])] + good[2...], ["lora_B.weight", "rank 8", "r = 2"]),
            ("3d", [(good[0].0, [2, 32, 1])] + good[1...], ["lora_A.weight", "[2, 32, 1]"]),
            ("unknown", good + [(p + "2.self_attn.v_proj.lora_A.weight", [2, 32])], ["model.layers.2.self_attn.v_proj", "not an adaptable linear module"]),
            ("untargeted", good + [(p + "0.self_attn.q_proj.lora_A.weight", [2, 32])], ["q_proj.lora_A.weight", "'q_proj' is not in target_modules"]),
            ("stray", good + [("base_model.model.lm_head.weight", [64, 32])], ["lm_head.weight", "not a LoRA factor"]),
        ]
        for (name, tensors, expected) in cases {
            let dir = try writeFolder(name, config: config, tensors: tensors)
            let message = LoRATestSupport.errorText { _ = try LoRAPEFTFormat.load(from: dir, base: base) }
            XCTAssertTrue(message.contains(dir + "/adapter_model.safetensors"), "\(name): \(message)")
            for e in expected { XCTAssertTrue(message.contains(e), "\(name): '\(e)' not in: \(message)") }
        }
        let subset = try LoRAConfig(rank: 2, alpha: 4, targets: [.value], layers: [0])
        let dir = try writeFolder("layers", config: subset, tensors: good)
        let message = LoRATestSupport.errorText { _ = try LoRAPEFTFormat.load(from: dir, base: base) }
        XCTAssertTrue(message.contains("block 1 is not in layers_to_transform"), message)
    }

    func testIntegerTensorsAndMissingFilesAreRejected() throws {
        let config = try LoRAConfig(rank: 1, alpha: 1, targets: [.value], layers: [0])
        let dir = directory.appendingPathComponent("int").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try AtomicFile.write(try JSONEncoder().encode(config), to: dir + "/adapter_config.json")
        XCTAssertEqual(LoRATestSupport.errorText { _ = try LoRAPEFTFormat.load(from: dir, base: self.base) },
                       "\(dir)/adapter_model.safetensors: file not found")
        // a hand-made safetensors file: A as I32, B as F32
        let a = "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", b = "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight"
        var header = #"{"\#(a)":{"dtype":"I32","shape":[1,32],"data_offsets":[0,128]},"\#(b)":{"dtype":"F32","shape":[16,1],"data_offsets":[128,192]}}"#
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        data.append(Data(count: 192))
        try data.write(to: URL(fileURLWithPath: dir + "/adapter_model.safetensors"))
        let message = LoRATestSupport.errorText { _ = try LoRAPEFTFormat.load(from: dir, base: self.base) }
        XCTAssertTrue(message.contains(a) && message.contains("dtype I32"), message)
        try FileManager.default.removeItem(atPath: dir + "/adapter_config.json")
        XCTAssertEqual(LoRATestSupport.errorText { _ = try LoRAPEFTFormat.load(from: dir, base: self.base) }, "\(dir)/adapter_config.json: file not found")
    }

    func testConfigForAnotherArchitectureIsRejectedWithTheConfigPath() throws {
        let adapter = try makeAdapter()
        try LoRAPEFTFormat.save(adapter, to: directory.path)
        let message = LoRATestSupport.errorText { _ = try LoRAPEFTFormat.load(from: self.directory.path, base: .gpt2(LoRATestSupport.gpt2)) }
        XCTAssertTrue(message.contains(directory.appendingPathComponent("adapter_config.json").path) && message.contains("'q_proj' is a llama module"), message)
    }
}
