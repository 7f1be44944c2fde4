import Foundation
import XCTest
import TestSupport
@testable import Tokenizers

/// GPT-2's vocab.json + merges.txt on tiny hand-written files (no model needed).
final class GPT2VocabLoaderTests: XCTestCase {
    static let vocabJSON = #"""
    {"l": 0, "o": 1, "w": 2, "e": 3, "r": 4, "Ġ": 5, "lo": 6, "low": 7, "er": 8, "lower": 9, "Ġlow": 10, "<|endoftext|>": 11}
    """#
    static let mergesTXT = "#version: 0.2\nl o\nlo w\ne r\nlow er\nĠ low\n\n\n"

    var dir: URL!

    override func setUpWithError() throws {
        dir = try FixturePaths.makeTemporaryDirectory("gpt2vocab")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// Writes the files (into `folder` under the test's directory) and returns their paths.
    @discardableResult
    func write(vocab: String = vocabJSON, merges: String = mergesTXT, config: String? = nil,
               folder: String = "a") throws -> (vocab: String, merges: String) {
        let d = dir.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        let v = d.appendingPathComponent("vocab.json"), m = d.appendingPathComponent("merges.txt")
        try Data(vocab.utf8).write(to: v)
        try Data(merges.utf8).write(to: m)
        if let config { try Data(config.utf8).write(to: d.appendingPathComponent("tokenizer_config.json")) }
        return (v.path, m.path)
    }

    func load(_ files: (vocab: String, merges: String), pre: PreTokenizer = .gpt2) throws -> BPETokenizer {
        try BPETokenizer(vocabJSONPath: files.vocab, mergesPath: files.merges, preTokenizer: pre)
    }

    func assertThrows(_ expected: TokenizerError, file: StaticString = #filePath, line: UInt = #line,
                      _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            XCTAssertEqual(e as? TokenizerError, expected, "\(e)", file: file, line: line)
        }
    }

    func testHandCheckedEncodingsAndSpecialIDs() throws {
        let files = try write()
        let t = try load(files)
        XCTAssertEqual(t.source, files.vocab)
        XCTAssertEqual(t.vocabularySize, 12)
        XCTAssertEqual(t.mergeCount, 5, "the #version line is not a merge and trailing blank lines are ignored")
        XCTAssertEqual(t.preTokenizer, .gpt2)
        XCTAssertEqual(t.encode("lower"), [9])
        XCTAssertEqual(t.encode(" lower"), [5, 9], "\"low er\" (rank 3) before \"Ġ low\" (rank 4)")
        XCTAssertEqual(t.encode(" low"), [10])
        XCTAssertEqual(t.encode("low<|endoftext|>lo"), [7, 11, 6])
        XCTAssertEqual(t.tokenTypes[11], .control)
        XCTAssertEqual(t.bosID, 11)
        XCTAssertEqual(t.eosID, 11)
        XCTAssertEqual(t.unknownID, 11)
        XCTAssertNil(t.padID)
        XCTAssertFalse(t.addBOS)
        XCTAssertEqual(t.decode([7, 11, 5, 9]), "low<|endoftext|> lower")
    }

    func testHeaderIsOptionalAndCRLFIsAccepted() throws {
        let reference = try load(write())
        let noHeader = try load(write(merges: "l o\nlo w\ne r\nlow er\nĠ low", folder: "b"))
        let crlf = try load(write(merges: "#version: 0.2\r\nl o\r\nlo w\r\ne r\r\nlow er\r\nĠ low\r\n\r\n", folder: "c"))
        for t in [noHeader, crlf] {
            XCTAssertEqual(t.mergeCount, 5)
            XCTAssertEqual(t.merges, reference.merges)
        }
    }

    func testPreTokenizerChoiceAndConfig() throws {
        let config = #"""
        {"added_tokens_decoder": {"12": {"content": "<|im_start|>", "special": true}, "11": {"content": "<|endoftext|>", "special": true}},
         "bos_token": "<|im_start|>", "eos_token": {"content": "<|endoftext|>"}, "pad_token": "<|endoftext|>", "unk_token": null}
        """#
        let t = try load(write(config: config))
        XCTAssertEqual(t.vocabularySize, 13, "added_tokens_decoder extends the vocabulary")
        XCTAssertEqual(t.bosID, 12)
        XCTAssertEqual(t.eosID, 11)
        XCTAssertEqual(t.padID, 11)
        XCTAssertNil(t.unknownID)
        XCTAssertEqual(t.encode("<|im_start|>low"), [12, 7])
        XCTAssertEqual(t.tokenTypes[12], .control)
        let smol = try load(write(folder: "d"), pre: .smollm)
        XCTAssertEqual(smol.preTokenizer, .smollm)
    }

    func testErrorsNameTheFileAndLine() throws {
        let missingMerges = dir.appendingPathComponent("x/merges.txt").path
        let v = try write().vocab
        assertThrows(.unreadableFile(path: missingMerges, reason: "no such file")) {
            _ = try BPETokenizer(vocabJSONPath: v, mergesPath: missingMerges)
        }
        var files = try write(merges: "#version: 0.2\nl o\nlo w\nl zz\n", folder: "e")
        assertThrows(.invalidMergesLine(source: files.merges, line: 4, text: "l zz", reason: "a part is not in the vocabulary: 'zz'")) {
            _ = try load(files)
        }
        XCTAssertThrowsError(try load(files)) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(files.merges):4: "), "\(e)")
        }
        files = try write(merges: "l o\ne r\nr e\n", folder: "f")
        assertThrows(.invalidMergesLine(source: files.merges, line: 3, text: "r e", reason: "the merged token is not in the vocabulary: 're'")) {
            _ = try load(files)
        }
        files = try write(merges: "#version: 0.2\nl o\nlo w e\n", folder: "g")
        assertThrows(.invalidMergesLine(source: files.merges, line: 3, text: "lo w e", reason: "expected two tokens separated by one space")) {
            _ = try load(files)
        }
        files = try write(merges: "l o\n\nlo w\n", folder: "h")
        assertThrows(.invalidMergesLine(source: files.merges, line: 2, text: "", reason: "blank line")) { _ = try load(files) }
        files = try write(merges: "#version: 0.2\nl o\n#version: 0.2\n", folder: "i")
        XCTAssertThrowsError(try load(files), "only the first line may be a #version header") { e in
            guard case TokenizerError.invalidMergesLine(_, 3, _, _) = e else { return XCTFail("\(e)") }
        }
        files = try write(vocab: #"{"l": 0, "o": 0}"#, merges: "", folder: "j")
        assertThrows(.duplicateTokenID(source: files.vocab, id: 0, first: "l", second: "o")) { _ = try load(files) }
        files = try write(vocab: #"{"l": 0, "o": 2}"#, merges: "", folder: "k")
        assertThrows(.tokenIDOutOfRange(source: files.vocab, token: "o", id: 2, vocabularySize: 2)) { _ = try load(files) }
        files = try write(vocab: #"{"l": 0, "o": 1.5}"#, merges: "", folder: "l")
        assertThrows(.invalidField(source: files.vocab, key: #"["o"]"#, reason: "the id is not an integer")) { _ = try load(files) }
        files = try write(vocab: #"{"l": 0, "o": 1"#, merges: "", folder: "m")
        XCTAssertThrowsError(try load(files)) { e in
            guard case TokenizerError.malformedFile(files.vocab, _) = e else { return XCTFail("\(e)") }
        }
        files = try write(vocab: "{}", merges: "", folder: "n")
        assertThrows(.invalidVocabulary(source: files.vocab, reason: "the vocabulary is empty")) { _ = try load(files) }
        let d = dir.appendingPathComponent("o")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        let badUTF8 = d.appendingPathComponent("merges.txt")
        try Data([0x6C, 0x20, 0x6F, 0x0A, 0xFF, 0x20, 0x6F, 0x0A]).write(to: badUTF8)
        assertThrows(.malformedFile(source: badUTF8.path, reason: "line 2 is not UTF-8 text")) {
            _ = try BPETokenizer(vocabJSONPath: v, mergesPath: badUTF8.path)
        }
        files = try write(config: #"{"eos_token": "</s>"}"#, folder: "p")
        let configPath = dir.appendingPathComponent("p/tokenizer_config.json").path
        assertThrows(.invalidField(source: configPath, key: "eos_token", reason: "'</s>' is not in the vocabulary")) {
            _ = try load(files)
        }
        files = try write(config: #"{"added_tokens_decoder": {"x": {"content": "<a>"}}}"#, folder: "q")
        assertThrows(.invalidField(source: dir.appendingPathComponent("q/tokenizer_config.json").path,
                                   key: "added_tokens_decoder.x", reason: "the key is not a token id")) {
            _ = try load(files)
        }
    }
}
