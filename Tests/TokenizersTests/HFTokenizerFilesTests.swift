import Foundation
import XCTest
import IO
import TestSupport
@testable import Tokenizers

/// The SmolLM2 tokenizer loaded from Hugging Face files (tokenizer.json with either merge form,
/// vocab.json + merges.txt, tokenizer_config.json) that the test writes from the GGUF's own
/// vocabulary, checked against the Hugging Face goldens; and, when dev/make_hf_tokenizer_files.py
/// has been run, the files Hugging Face itself wrote.
final class HFTokenizerFilesTests: XCTestCase {
    /// Files written once per test run: the folder and the GGUF tokenizer they came from.
    struct Files {
        let folder: URL
        let gguf: BPETokenizer
        var pairsJSON: URL { folder.appendingPathComponent("pairs/tokenizer.json") }
        var stringsJSON: URL { folder.appendingPathComponent("strings/tokenizer.json") }
        var vocab: URL { folder.appendingPathComponent("gpt2/vocab.json") }
        var merges: URL { folder.appendingPathComponent("gpt2/merges.txt") }
        var separateConfig: URL { folder.appendingPathComponent("config/tokenizer_config.json") }
    }

    nonisolated(unsafe) static var cached: Files?

    override class func tearDown() {
        if let f = cached { try? FileManager.default.removeItem(at: f.folder) }
        cached = nil
        super.tearDown()
    }

    func files() throws -> Files {
        if let f = Self.cached { return f }
        guard let path = FixturePaths.smolLM2Model else {
            throw XCTSkip("SmolLM2 GGUF not found (run `make setup` or set FINGPT_MODEL)")
        }
        let gguf = try GGUFFile(path: path)
        let tokenizer = try BPETokenizer(gguf: gguf)
        let folder = try FixturePaths.makeTemporaryDirectory("hf-tokenizer-files")
        for sub in ["pairs", "strings", "gpt2", "config"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let writer = HFTokenizerFileWriter(tokens: tokenizer.tokens, types: tokenizer.tokenTypes,
                                           merges: try gguf.stringArray("tokenizer.ggml.merges"),
                                           preTokenizer: HFTokenizerFileWriter.smolLM2PreTokenizer)
        let f = Files(folder: folder, gguf: tokenizer)
        try writer.writeTokenizerJSON(to: f.pairsJSON, pairMerges: true)
        // SmolLM2-Instruct's own tokenizer_config.json names these.
        try writer.writeConfig(to: folder.appendingPathComponent("pairs/tokenizer_config.json"),
                               bos: "<|im_start|>", eos: "<|im_end|>", pad: "<|im_end|>", unk: "<|endoftext|>")
        try writer.writeTokenizerJSON(to: f.stringsJSON, pairMerges: false)
        try writer.writeVocabJSON(to: f.vocab)
        try writer.writeMergesText(to: f.merges)
        try writer.writeConfig(to: f.separateConfig, bos: "<|im_start|>", eos: "<|im_end|>", pad: "<|im_end|>", unk: "<|endoftext|>")
        Self.cached = f
        return f
    }

    /// Every golden case: ids with and without special-token matching, decoding, round trip.
    func assertMatchesGoldens(_ t: BPETokenizer, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let goldens = try TokenizerGoldens.load()
        XCTAssertEqual(t.vocabularySize, goldens.vocab_size, label, file: file, line: line)
        var failures = 0
        for c in goldens.cases where failures < 5 {
            let ids = t.encode(c.text), plain = t.encode(c.text, allowSpecial: false)
            if ids != c.ids || plain != c.ids_no_special || t.decode(c.ids) != c.decoded || t.decode(ids) != c.decoded {
                failures += 1
                XCTFail("\(label): \(c.text.debugDescription): \(ids) / \(plain), expected \(c.ids) / \(c.ids_no_special)",
                        file: file, line: line)
            }
        }
        for d in goldens.decode_cases { XCTAssertEqual(t.decode(d.ids), d.text, label, file: file, line: line) }
    }

    /// The loaded tokenizer has exactly the GGUF's vocabulary, token types and merge table.
    func assertSameTables(_ t: BPETokenizer, _ f: Files, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(t.tokens, f.gguf.tokens, file: file, line: line)
        XCTAssertEqual(t.tokenTypes.map(\.isSpecial), f.gguf.tokenTypes.map(\.isSpecial), file: file, line: line)
        XCTAssertEqual(t.mergeCount, f.gguf.mergeCount, file: file, line: line)
        XCTAssertTrue(t.merges == f.gguf.merges, "merge tables differ", file: file, line: line)
    }

    func testTokenizerJSONWithPairMergesAndConfig() throws {
        let f = try files()
        let t = try BPETokenizer(tokenizerJSONPath: f.pairsJSON.path)
        XCTAssertEqual(t.preTokenizer, .smollm)
        assertSameTables(t, f)
        // tokenizer_config.json next to it gives the GGUF's special ids.
        XCTAssertEqual(t.bosID, f.gguf.bosID)
        XCTAssertEqual(t.eosID, f.gguf.eosID)
        XCTAssertEqual(t.padID, f.gguf.padID)
        XCTAssertEqual(t.unknownID, 0)
        XCTAssertFalse(t.addBOS)
        try assertMatchesGoldens(t, "tokenizer.json (pairs)")
    }

    func testTokenizerJSONWithStringMerges() throws {
        let f = try files()
        let t = try BPETokenizer(tokenizerJSONPath: f.stringsJSON.path)
        assertSameTables(t, f)
        XCTAssertEqual(t.bosID, 0, "no config: <|endoftext|> by name")
        XCTAssertEqual(t.eosID, 0)
        XCTAssertNil(t.padID)
        try assertMatchesGoldens(t, "tokenizer.json (strings)")
    }

    func testVocabAndMergesWithSmolLMPreTokenizerAndConfig() throws {
        let f = try files()
        let t = try BPETokenizer(vocabJSONPath: f.vocab.path, mergesPath: f.merges.path, preTokenizer: .smollm,
                                 tokenizerConfigPath: f.separateConfig.path)
        assertSameTables(t, f)
        XCTAssertEqual(t.bosID, f.gguf.bosID)
        XCTAssertEqual(t.eosID, f.gguf.eosID)
        try assertMatchesGoldens(t, "vocab.json + merges.txt (smollm)")
    }

    /// Loaded as GPT-2's files are (GPT-2 pre-tokenizer, only <|endoftext|> special), SmolLM2's
    /// vocab.json + merges.txt must give what Hugging Face and transformers' GPT2TokenizerFast give.
    func testVocabAndMergesAsGPT2MatchHuggingFace() throws {
        let f = try files()
        let t = try BPETokenizer(vocabJSONPath: f.vocab.path, mergesPath: f.merges.path)
        try assertMatchesVocabMergesGoldens(t, "vocab.json + merges.txt (gpt2)")
    }

    func assertMatchesVocabMergesGoldens(_ t: BPETokenizer, _ label: String) throws {
        XCTAssertEqual(t.preTokenizer, .gpt2)
        XCTAssertEqual(t.tokenTypes.filter(\.isSpecial).count, 1)
        XCTAssertEqual(t.eosID, 0)
        let goldens = try VocabMergesGoldens.load()
        XCTAssertGreaterThanOrEqual(goldens.cases.count, 40)
        for c in goldens.cases {
            XCTAssertEqual(t.encode(c.text), c.ids, "\(label): \(c.text.debugDescription)")
            XCTAssertEqual(t.encode(c.text, allowSpecial: false), c.ids_no_special, "\(label) (no special): \(c.text.debugDescription)")
        }
    }

    // MARK: - Files written by Hugging Face

    /// dev/make_hf_tokenizer_files.py's output folder, if it has been run.
    static var huggingFaceFolder: URL? {
        let env = ProcessInfo.processInfo.environment["FINGPT_HF_TOKENIZER_DIR"] ?? ""
        let url = URL(fileURLWithPath: env.isEmpty ? "/tmp/fingpt-hf-tokenizer" : env)
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("tokenizer.json").path) ? url : nil
    }

    /// The tokenizer.json this test writes has exactly the structure and content of the one
    /// Hugging Face saved, and both load to tokenizers that reproduce the goldens; likewise for
    /// vocab.json + merges.txt.
    func testHuggingFaceWrittenFiles() throws {
        guard let hf = Self.huggingFaceFolder else {
            throw XCTSkip("run `python3 dev/make_hf_tokenizer_files.py` to compare with files Hugging Face wrote")
        }
        let f = try files()
        let hfJSON = hf.appendingPathComponent("tokenizer.json")
        let theirs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: hfJSON)) as? [String: Any])
        let ours = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: f.pairsJSON)) as? [String: Any])
        XCTAssertEqual(Set(theirs.keys), Set(ours.keys))
        for key in theirs.keys.sorted() where key != "model" {
            XCTAssertTrue(Self.jsonEqual(theirs[key]!, ours[key] as Any), "'\(key)' differs")
        }
        let theirModel = try XCTUnwrap(theirs["model"] as? [String: Any])
        let ourModel = try XCTUnwrap(ours["model"] as? [String: Any])
        XCTAssertEqual(Set(theirModel.keys), Set(ourModel.keys))
        for key in theirModel.keys.sorted() where key != "vocab" && key != "merges" {
            XCTAssertTrue(Self.jsonEqual(theirModel[key]!, ourModel[key] as Any), "'model.\(key)' differs")
        }
        XCTAssertEqual(theirModel["vocab"] as? [String: Int], ourModel["vocab"] as? [String: Int], "model.vocab differs")
        let theirMerges = try XCTUnwrap(theirModel["merges"] as? [[String]], "Hugging Face writes merges as pairs")
        XCTAssertEqual(theirMerges, ourModel["merges"] as? [[String]], "model.merges differs")

        let t = try BPETokenizer(tokenizerJSONPath: hfJSON.path)
        assertSameTables(t, f)
        try assertMatchesGoldens(t, "Hugging Face tokenizer.json")

        let hfVocab = hf.appendingPathComponent("vocab.json"), hfMerges = hf.appendingPathComponent("merges.txt")
        XCTAssertEqual(try String(contentsOf: hfMerges, encoding: .utf8), try String(contentsOf: f.merges, encoding: .utf8),
                       "merges.txt is byte-identical")
        let theirVocab = try JSONSerialization.jsonObject(with: Data(contentsOf: hfVocab)) as? [String: Int]
        let ourVocab = try JSONSerialization.jsonObject(with: Data(contentsOf: f.vocab)) as? [String: Int]
        XCTAssertNotNil(theirVocab)
        XCTAssertEqual(theirVocab, ourVocab, "vocab.json differs")
        let g = try BPETokenizer(vocabJSONPath: hfVocab.path, mergesPath: hfMerges.path)
        try assertMatchesVocabMergesGoldens(g, "Hugging Face vocab.json + merges.txt")
    }

    /// Deep equality of parsed JSON values. (Foundation's NSDictionary/NSNumber equality is not
    /// usable here: on Linux it reports two parsed JSON `false` values as different.)
    static func jsonEqual(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case (is NSNull, is NSNull):
            return true
        case (let x as [String: Any], let y as [String: Any]):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { jsonEqual(v, $0) } ?? false }
        case (let x as [Any], let y as [Any]):
            return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
        case (let x as String, let y as String):
            return x == y
        default:
            guard let x = a as? NSNumber, let y = b as? NSNumber else { return false }
            let xb = JSONObjectReader.isBoolean(x), yb = JSONObjectReader.isBoolean(y)
            return xb == yb && (xb ? x.boolValue == y.boolValue : x.doubleValue == y.doubleValue)
        }
    }
}
