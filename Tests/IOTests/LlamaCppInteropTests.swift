import Foundation
import XCTest
import IO
import Quantization
import TestSupport

/// A model file written by `GGUFWriter`, with tensors re-encoded by our quantizers, runs unchanged
/// in llama.cpp. Needs the SmolLM2 GGUF and the llama.cpp binaries built by
/// bench/build_llamacpp.sh (or a folder holding `llama-simple` in FINGPT_LLAMA_CPP_BIN); skips
/// otherwise.
///
/// Measured once by hand with llama-perplexity on data/sample/fin_sample_corpus.txt (first 20 kB,
/// context 256): original PPL 24.43, this requantized file 24.38.
final class LlamaCppInteropTests: XCTestCase {
    static var llamaSimple: String? {
        let env = ProcessInfo.processInfo.environment["FINGPT_LLAMA_CPP_BIN"]
        let dir = env ?? FixturePaths.repositoryRoot.appendingPathComponent("bench/.work/llama.cpp-build/bin").path
        let path = (dir as NSString).appendingPathComponent("llama-simple")
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Greedy continuation of `prompt` by llama.cpp's llama-simple.
    func generate(_ binary: String, model: String, prompt: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["-m", model, "-n", "12", prompt]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "llama-simple failed on \(model)")
        return String(decoding: data, as: UTF8.self)
    }

    func testLlamaCppRunsAModelRequantizedByOurWriter() throws {
        guard let model = FixturePaths.smolLM2Model else { throw XCTSkip("SmolLM2 GGUF not found") }
        guard let binary = Self.llamaSimple else { throw XCTSkip("llama.cpp's llama-simple not built (bash bench/build_llamacpp.sh)") }
        let f = try GGUFFile(path: model)
        var w = try GGUFWriter(alignment: f.alignment)
        for key in f.metadataKeys { w.setValue(f.metadata[key]!, forKey: key) }
        var converted: [GGMLType: Int] = [:]
        for t in f.tensors {
            // The Q8_0 embedding (also the tied output head) is decoded and encoded again by our Q8_0
            // quantizer, which gives back llama.cpp's bytes. Q4_1 matrices of layers 0-2 become Q8_0,
            // of layer 3 F16, of layer 4 Q4_0; everything else is copied as stored.
            let layer = t.name.hasPrefix("blk.") ? Int(t.name.split(separator: ".")[1]) ?? -1 : -1
            var target: GGMLType?
            if t.type == .q8_0 { target = .q8_0 }
            if t.type == .q4_1 && layer >= 0 && layer <= 4 { target = layer < 3 ? .q8_0 : layer == 3 ? .f16 : .q4_0 }
            if let target {
                try w.addTensor(t.name, shape: t.rowMajorShape, values: try f.floats(t), as: target)
                converted[target, default: 0] += 1
            } else {
                try w.addTensor(copying: t.name, from: f)
            }
        }
        XCTAssertEqual(converted, [.q8_0: 22, .f16: 7, .q4_0: 7])
        let dir = try FixturePaths.makeTemporaryDirectory("llamacpp-interop")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("requantized.gguf").path
        try w.write(to: path)
        let g = try GGUFFile(path: path)
        XCTAssertEqual(Array(g.tensorData(try g.tensor(named: "token_embd.weight"))),
                       Array(f.tensorData(try f.tensor(named: "token_embd.weight"))), "Q8_0 re-encoding reproduces llama.cpp's bytes")

        let prompt = "The Federal Reserve raised interest rates"
        let original = try generate(binary, model: model, prompt: prompt)
        let ours = try generate(binary, model: path, prompt: prompt)
        for text in [original, ours] {
            XCTAssertTrue(text.hasPrefix(prompt), text)
            XCTAssertGreaterThanOrEqual(text.dropFirst(prompt.count).split(separator: " ").count, 6, text)
        }
    }
}
