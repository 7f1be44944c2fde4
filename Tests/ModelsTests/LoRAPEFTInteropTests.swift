import Foundation
import IO
import Models
import Tensor
import TestSupport
import XCTest

/// Hugging Face PEFT loads an adapter written by us onto the Hugging Face model with the same base
/// weights and gives the logits of our merged model. Runs dev/make_peft_golden.py --check-adapter
/// (Python with torch, transformers and peft), which takes ~10 s, so it only runs when
/// FINGPT_PEFT_INTEROP=1 (or a Python path) is set; skips otherwise or when the packages are missing.
final class LoRAPEFTInteropTests: XCTestCase {
    static var python: String? {
        guard let flag = ProcessInfo.processInfo.environment["FINGPT_PEFT_INTEROP"], !flag.isEmpty, flag != "0" else { return nil }
        let candidate = flag == "1" ? "/usr/bin/env" : flag
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    func run(_ python: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = (python == "/usr/bin/env" ? ["python3"] : []) + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testPEFTLoadsOurAdapters() throws {
        guard let python = Self.python else { throw XCTSkip("set FINGPT_PEFT_INTEROP=1 (needs python3 with torch, transformers, peft)") }
        let probe = try run(python, ["-c", "import peft, transformers, torch, safetensors"])
        guard probe.status == 0 else { throw XCTSkip("python packages missing: \(probe.output.suffix(300))") }
        let dir = try FixturePaths.makeTemporaryDirectory("lora-peft-interop")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokens: [Int32] = [3, 17, 42, 5, 63, 0, 8, 21, 9, 9, 30, 1]
        var arguments = [FixturePaths.repositoryRoot.appendingPathComponent("dev/make_peft_golden.py").path]
        for (name, targets) in [("llama", "q,v,o,up,down"), ("gpt2", "c_attn,c_proj,c_fc")] {
            let folder = try HuggingFaceFolder(path: try LoRATestSupport.fixture("\(name)_base"))
            let config = try LoRAConfig(rank: 3, alpha: 5, useRSLoRA: name == "llama", targets: LoRATarget.parseList(targets),
                                        layers: name == "llama" ? [1] : nil)
            let logits: Tensor
            let adapterDir = dir.appendingPathComponent("\(name)_adapter").path
            if name == "llama" {
                let model = try folder.loadLlama()
                let adapter = try LoRATestSupport.randomAdapter(config, base: .llama(model.config), seed: 31)
                try LoRAPEFTFormat.save(adapter, to: adapterDir, dtype: .f32)
                try LoRAMerge.merge(adapter, into: model)
                logits = try model.logits(tokens: tokens, batch: 2, seq: 6)
            } else {
                let model = try folder.loadGPT2()
                let adapter = try LoRATestSupport.randomAdapter(config, base: .gpt2(model.config), seed: 32)
                try LoRAPEFTFormat.save(adapter, to: adapterDir, dtype: .f32)
                try LoRAMerge.merge(adapter, into: model)
                logits = try model.logits(tokens: tokens, batch: 2, seq: 6)
            }
            var w = SafetensorsWriter()
            w.add("logits", logits)
            let expected = dir.appendingPathComponent("\(name)_expected.safetensors").path
            try w.write(to: expected)
            try writeTokens(tokens, shape: [2, 6], into: expected)
            arguments += ["--check-adapter", adapterDir, "--base-model", folder.path, "--expected", expected]
        }
        let result = try run(python, arguments + ["--atol", "1e-4"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output.components(separatedBy: "max |PEFT - expected|").count, 3, result.output)
    }

    /// Rewrites `path` with an extra I32 tensor "tokens" (SafetensorsWriter writes floats only).
    func writeTokens(_ tokens: [Int32], shape: [Int], into path: String) throws {
        let f = try SafetensorsFile(path: path)
        let logits = try f.entry("logits")
        let bytes = try f.bytes("logits")
        var header = #"{"logits":{"dtype":"F32","shape":\#(logits.shape),"data_offsets":[0,\#(bytes.count)]},"tokens":{"dtype":"I32","shape":\#(shape),"data_offsets":[\#(bytes.count),\#(bytes.count + 4 * tokens.count)]}}"#
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        data.append(Data(bytes))
        for t in tokens { withUnsafeBytes(of: t.littleEndian) { data.append(contentsOf: $0) } }
        try AtomicFile.write(data, to: path)
    }
}
