import Foundation
import XCTest

/// Runs llama.cpp's `llama-completion` (built by bench/build_llamacpp.sh, or found in
/// FINGPT_LLAMA_CPP_BIN) greedily and returns the prompt and generated token ids.
public enum LlamaCppCompletion {
    /// The binary, or nil when llama.cpp is not built (tests skip then).
    public static var binary: String? {
        let env = ProcessInfo.processInfo.environment["FINGPT_LLAMA_CPP_BIN"]
        let dir = env ?? FixturePaths.repositoryRoot.appendingPathComponent("bench/.work/llama.cpp-build/bin").path
        let path = (dir as NSString).appendingPathComponent("llama-completion")
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Prompt and greedy tokens, read from the session file llama-completion saves at the end
    /// (`--prompt-cache-all`: u32 magic "ggsn", u32 version, u32 count, then `count` int32 token ids).
    /// The printed text is not used: this build's asynchronous logger can lose the last pieces when
    /// the process exits.
    public static func tokens(_ binary: String, model: String, lora: String? = nil, prompt: String, count: Int,
                              file: StaticString = #filePath, line: UInt = #line) throws -> [Int32] {
        let stem = model + (lora == nil ? ".base" : ".lora")
        FileManager.default.createFile(atPath: stem + ".log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: stem + ".log"))
        defer { try? log.close() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["-m", model, "-p", prompt, "-n", "\(count)", "--temp", "0", "-no-cnv", "--no-display-prompt", "--ignore-eos",
                       "-s", "1", "-t", "1", "--simple-io", "--prompt-cache", stem + ".session", "--prompt-cache-all"]
            + (lora.map { ["--lora", $0] } ?? [])
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = log
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let text = (try? String(contentsOfFile: stem + ".log", encoding: .utf8)) ?? ""
            XCTFail("llama-completion failed (\(p.terminationStatus)): \(text.suffix(2000))", file: file, line: line)
            return []
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: stem + ".session"))
        guard data.count >= 12 else { XCTFail("session file of \(data.count) bytes", file: file, line: line); return [] }
        let word = { (i: Int) in data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian } }
        XCTAssertEqual(word(0), 0x6767_736E, "session magic 'ggsn'", file: file, line: line)
        let n = Int(word(2))
        guard data.count >= 12 + 4 * n else { XCTFail("session file truncated", file: file, line: line); return [] }
        return (0..<n).map { Int32(bitPattern: word(3 + $0)) }
    }
}
