import Foundation
import XCTest
import TestSupport
@testable import Tokenizers

/// tokenizer.json loading on tiny hand-written files (no model needed).
final class TokenizerJSONLoaderTests: XCTestCase {
    /// A tiny byte-level BPE tokenizer.json in Hugging Face's schema. Only some bytes have tokens
    /// (the others are dropped when encoding, as in Hugging Face). `<|im_start|>` (id 18) exists
    /// only as an added token; `<tag>` (19) is a non-special added token.
    static let tinyJSON = #"""
    {
      "version": "1.0", "truncation": null, "padding": null,
      "added_tokens": [
        {"id": 0, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
        {"id": 18, "content": "<|im_start|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
        {"id": 19, "content": "<tag>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false}
      ],
      "normalizer": null,
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
      "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
      "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
      "model": {
        "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, "end_of_word_suffix": null,
        "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
        "vocab": {"<|endoftext|>": 0, "l": 1, "o": 2, "w": 3, "e": 4, "r": 5, "Ġ": 6, "lo": 7, "low": 8, "er": 9,
                  "lower": 10, "Ġlow": 11, "1": 12, "2": 13, "3": 14, "12": 15, "a": 16, "b": 17},
        "merges": ["l o", "lo w", "e r", "low er", "Ġ low", "1 2"]
      }
    }
    """#

    /// The tiny file as a dictionary, to derive variants from.
    static func tinyObject() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(tinyJSON.utf8)) as? [String: Any])
    }

    /// `tinyObject()` changed by `edit`, serialized.
    static func variant(_ edit: (inout [String: Any], inout [String: Any]) throws -> Void) throws -> Data {
        var root = try tinyObject()
        var model = try XCTUnwrap(root["model"] as? [String: Any])
        try edit(&root, &model)
        root["model"] = model
        return try JSONSerialization.data(withJSONObject: root)
    }

    static func load(_ data: Data, config: String? = nil) throws -> BPETokenizer {
        try BPETokenizer(tokenizerJSON: data, tokenizerConfig: config.map { Data($0.utf8) }, source: "tiny.json",
                         configSource: "tiny_config.json")
    }

    /// Expects `body` to throw exactly `expected`.
    func assertThrows(_ expected: TokenizerError, file: StaticString = #filePath, line: UInt = #line,
                      _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            XCTAssertEqual(e as? TokenizerError, expected, "\(e)", file: file, line: line)
        }
    }

    // MARK: - Encoding

    func testHandCheckedEncodings() throws {
        let t = try Self.load(Data(Self.tinyJSON.utf8))
        XCTAssertEqual(t.vocabularySize, 20)
        XCTAssertEqual(t.preTokenizer, .gpt2)
        XCTAssertFalse(t.addPrefixSpace)
        XCTAssertFalse(t.addBOS)
        XCTAssertEqual(t.mergeCount, 6)
        // l o w e r: "l o"(0) -> "lo w"(1) -> "e r"(2) -> "low er"(3).
        XCTAssertEqual(t.encode("lower"), [10])
        // Ġ l o w e r: "low er"(3) comes before "Ġ low"(4), leaving Ġ + lower.
        XCTAssertEqual(t.encode(" lower"), [6, 10])
        XCTAssertEqual(t.encode(" low"), [11])
        // GPT-2's regex keeps "123" together: "1 2"(5) -> 12 3.
        XCTAssertEqual(t.encode("123"), [15, 14])
        XCTAssertEqual(t.decode([6, 10, 15, 14]), " lower123")
        XCTAssertEqual(t.tokenToPiece(11), " low")
    }

    func testAddedTokens() throws {
        let t = try Self.load(Data(Self.tinyJSON.utf8))
        XCTAssertEqual(t.tokenTypes[0], .control, "special added token that is also in model.vocab")
        XCTAssertEqual(t.tokenTypes[18], .control, "special added token beyond model.vocab")
        XCTAssertEqual(t.tokenTypes[19], .userDefined, "non-special added token")
        XCTAssertEqual(t.tokens[18], "<|im_start|>")
        XCTAssertEqual(t.encode("low<|endoftext|>lo"), [8, 0, 7])
        XCTAssertEqual(t.encode("<|im_start|>low"), [18, 8])
        // Without special-token matching, "<|im_start|>" is text: only "a" and "r" of "start" have tokens.
        XCTAssertEqual(t.encode("<|im_start|>low", allowSpecial: false), [16, 5, 8])
        // A non-special added token is always matched.
        XCTAssertEqual(t.encode("a<tag>b", allowSpecial: false), [16, 19, 17])
        XCTAssertEqual(t.decode([18, 8, 0]), "<|im_start|>low<|endoftext|>")
        XCTAssertEqual(t.decode([18, 8, 0, 19], skipSpecial: true), "low<tag>")
    }

    func testBothMergeFormsGiveTheSameTokenizer() throws {
        let pairs = try Self.variant { _, model in
            model["merges"] = [["l", "o"], ["lo", "w"], ["e", "r"], ["low", "er"], ["Ġ", "low"], ["1", "2"]]
        }
        let a = try Self.load(Data(Self.tinyJSON.utf8))
        let b = try Self.load(pairs)
        XCTAssertEqual(b.mergeCount, 6)
        XCTAssertEqual(a.merges, b.merges)
        for s in ["lower", " lower low", "123 12", "ab lo"] { XCTAssertEqual(a.encode(s), b.encode(s)) }
    }

    func testPreTokenizerVariants() throws {
        let prefixed = try Self.load(Self.variant { root, _ in
            root["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true]
        })
        XCTAssertTrue(prefixed.addPrefixSpace)
        XCTAssertEqual(prefixed.encode("lower"), [6, 10], "a space is prepended")
        XCTAssertEqual(prefixed.encode(" low"), [11], "but not to text that starts with one")
        // Each stretch between special tokens gets its own prefix space, as in Hugging Face.
        XCTAssertEqual(prefixed.encode("low<|endoftext|>lower"), [11, 0, 6, 10])
        XCTAssertEqual(prefixed.encode("<|endoftext|>"), [0])
        XCTAssertEqual(prefixed.encode(""), [])
        // The same text with special tokens off is a single stretch.
        XCTAssertEqual(prefixed.encode("low<tag>", allowSpecial: false), [11, 19])

        let smol = try Self.load(Self.variant { root, _ in
            root["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Digits", "individual_digits": true],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]]]
        })
        XCTAssertEqual(smol.preTokenizer, .smollm)
        XCTAssertEqual(smol.encode("123"), [12, 13, 14], "every digit alone: no 1+2 merge")

        let llama = try Self.load(Self.variant { root, _ in
            root["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": PreTokenizer.llama3Pattern], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]]]
        })
        XCTAssertEqual(llama.preTokenizer, .llama3)
        // Runs of at most three digits: "12312" -> "123" "12".
        XCTAssertEqual(llama.encode("12312"), [15, 14, 15])

        let single = try Self.load(Self.variant { root, _ in
            root["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]]]
        })
        XCTAssertEqual(single.preTokenizer, .gpt2)
    }

    func testIgnoreMerges() throws {
        // "lwo" (id 20) is a vocabulary entry that no merge builds.
        func make(ignoreMerges: Bool) throws -> BPETokenizer {
            try Self.load(Self.variant { _, model in
                var vocab = try XCTUnwrap(model["vocab"] as? [String: Any])
                vocab["lwo"] = 20
                model["vocab"] = vocab
                model["ignore_merges"] = ignoreMerges
            })
        }
        let t = try make(ignoreMerges: true)
        XCTAssertTrue(t.ignoreMerges)
        XCTAssertEqual(t.encode("lwo"), [20])
        XCTAssertEqual(t.encode("lower"), [10])
        XCTAssertEqual(t.encode("wol"), [3, 2, 1])
        let merging = try make(ignoreMerges: false)
        XCTAssertFalse(merging.ignoreMerges)
        XCTAssertEqual(merging.encode("lwo"), [1, 3, 2])
    }

    // MARK: - Special ids

    func testSpecialIDsFromFallbackNamesTemplateAndConfig() throws {
        let plain = try Self.load(Data(Self.tinyJSON.utf8))
        XCTAssertEqual(plain.bosID, 0, "<|endoftext|> is GPT-2's BOS and EOS")
        XCTAssertEqual(plain.eosID, 0)
        XCTAssertNil(plain.padID)
        XCTAssertNil(plain.unknownID)

        let config = #"{"bos_token": {"__type": "AddedToken", "content": "<|im_start|>", "lstrip": false}, "eos_token": "<|endoftext|>", "pad_token": null, "unk_token": "a"}"#
        let configured = try Self.load(Data(Self.tinyJSON.utf8), config: config)
        XCTAssertEqual(configured.bosID, 18)
        XCTAssertEqual(configured.eosID, 0)
        XCTAssertNil(configured.padID)
        XCTAssertEqual(configured.unknownID, 16)
        XCTAssertFalse(configured.addBOS, "the config names the BOS; only a post-processor adds it")

        let templated = try Self.load(Self.variant { root, _ in
            root["post_processor"] = ["type": "Sequence", "processors": [
                ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
                ["type": "TemplateProcessing",
                 "single": [["SpecialToken": ["id": "<|im_start|>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                 "pair": [["Sequence": ["id": "A", "type_id": 0]], ["Sequence": ["id": "B", "type_id": 1]]],
                 "special_tokens": ["<|im_start|>": ["id": "<|im_start|>", "ids": [18], "tokens": ["<|im_start|>"]]]]]]
        })
        XCTAssertTrue(templated.addBOS)
        XCTAssertEqual(templated.bosID, 18)
        XCTAssertEqual(templated.encode("low"), [18, 8])
        XCTAssertEqual(templated.encode("low", addBOS: false), [8])

        let noBOS = try Self.load(Self.variant { root, _ in
            root["post_processor"] = ["type": "TemplateProcessing", "single": [["Sequence": ["id": "A", "type_id": 0]]],
                                      "pair": [], "special_tokens": [:]]
        })
        XCTAssertFalse(noBOS.addBOS)

        let unk = try Self.load(Self.variant { _, model in model["unk_token"] = "<|endoftext|>" })
        XCTAssertEqual(unk.unknownID, 0)
    }

    func testLoadsFromFilesWithConfigNextToThem() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("tokjson")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tokenizer.json").path
        try Data(Self.tinyJSON.utf8).write(to: URL(fileURLWithPath: path))
        let alone = try BPETokenizer(tokenizerJSONPath: path)
        XCTAssertEqual(alone.source, path)
        XCTAssertEqual(alone.eosID, 0)
        try Data(#"{"eos_token": "<|im_start|>"}"#.utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        XCTAssertEqual(try BPETokenizer(tokenizerJSONPath: path).eosID, 18, "tokenizer_config.json next to it is read")
        let other = dir.appendingPathComponent("other_config.json")
        try Data(#"{"eos_token": "b"}"#.utf8).write(to: other)
        XCTAssertEqual(try BPETokenizer(tokenizerJSONPath: path, tokenizerConfigPath: other.path).eosID, 17)
    }

    // MARK: - Errors

    func testFileErrors() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("tokjson-err")
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nope.json").path
        assertThrows(.unreadableFile(path: missing, reason: "no such file")) { _ = try BPETokenizer(tokenizerJSONPath: missing) }
        assertThrows(.unreadableFile(path: dir.path, reason: "it is a folder")) { _ = try BPETokenizer(tokenizerJSONPath: dir.path) }
        let path = dir.appendingPathComponent("tokenizer.json").path
        try Data(Self.tinyJSON.utf8).write(to: URL(fileURLWithPath: path))
        let missingConfig = dir.appendingPathComponent("cfg.json").path
        assertThrows(.unreadableFile(path: missingConfig, reason: "no such file")) {
            _ = try BPETokenizer(tokenizerJSONPath: path, tokenizerConfigPath: missingConfig)
        }
        let broken = dir.appendingPathComponent("broken.json").path
        try Data(Self.tinyJSON.utf8.dropLast(20)).write(to: URL(fileURLWithPath: broken))
        XCTAssertThrowsError(try BPETokenizer(tokenizerJSONPath: broken)) { e in
            guard case TokenizerError.malformedFile(broken, let reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("not valid JSON"), reason)
            XCTAssertTrue("\(e)".hasPrefix(broken), "\(e)")
        }
    }

    func testMalformedJSONAndFields() throws {
        assertThrows(.malformedFile(source: "tiny.json", reason: "the top level of the JSON is not an object")) {
            _ = try Self.load(Data("[1, 2]".utf8))
        }
        assertThrows(.invalidField(source: "tiny.json", key: "model", reason: "missing")) {
            _ = try Self.load(Data("{}".utf8))
        }
        assertThrows(.invalidField(source: "tiny.json", key: "model.type", reason: "expected a string")) {
            _ = try Self.load(Self.variant { _, model in model["type"] = 3 })
        }
        assertThrows(.invalidField(source: "tiny.json", key: "model.vocab", reason: "missing")) {
            _ = try Self.load(Self.variant { _, model in model["vocab"] = nil })
        }
        assertThrows(.invalidField(source: "tiny.json", key: "model.merges", reason: "missing")) {
            _ = try Self.load(Self.variant { _, model in model["merges"] = nil })
        }
        assertThrows(.invalidField(source: "tiny.json", key: #"model.vocab["b"]"#, reason: "the id is not an integer")) {
            _ = try Self.load(Self.variant { _, model in
                var vocab = model["vocab"] as! [String: Any]
                vocab["b"] = "17"
                model["vocab"] = vocab
            })
        }
        assertThrows(.invalidField(source: "tiny.json", key: "added_tokens[1].id", reason: "expected an integer")) {
            _ = try Self.load(Self.variant { root, _ in
                root["added_tokens"] = [["id": 0, "content": "<|endoftext|>", "special": true],
                                        ["id": true, "content": "<x>", "special": true]]
            })
        }
        assertThrows(.invalidField(source: "tiny.json", key: "pre_tokenizer.add_prefix_space", reason: "missing")) {
            _ = try Self.load(Self.variant { root, _ in root["pre_tokenizer"] = ["type": "ByteLevel", "trim_offsets": true] })
        }
        assertThrows(.malformedFile(source: "tiny_config.json", reason: "the top level of the JSON is not an object")) {
            _ = try Self.load(Data(Self.tinyJSON.utf8), config: "[1]")
        }
        assertThrows(.invalidField(source: "tiny_config.json", key: "eos_token", reason: "'</s>' is not in the vocabulary")) {
            _ = try Self.load(Data(Self.tinyJSON.utf8), config: #"{"eos_token": "</s>"}"#)
        }
        assertThrows(.invalidField(source: "tiny_config.json", key: "bos_token.content", reason: "missing")) {
            _ = try Self.load(Data(Self.tinyJSON.utf8), config: #"{"bos_token": {"lstrip": false}}"#)
        }
    }

    func testUnsupportedModelAndComponents() throws {
        assertThrows(.unsupportedModel(source: "tiny.json", model: "WordPiece")) {
            _ = try Self.load(Self.variant { _, model in model["type"] = "WordPiece" })
        }
        XCTAssertThrowsError(try Self.load(Self.variant { root, _ in
            root["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false]
        })) { e in
            guard case TokenizerError.unsupportedPreTokenizer("tiny.json", let name) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(name.hasPrefix("Metaspace("), name)
            XCTAssertTrue("\(e)".contains("tiny.json") && "\(e)".contains("Metaspace"), "\(e)")
        }
        assertThrows(.unsupportedPreTokenizer(source: "tiny.json", name: "null (no pre-tokenizer)")) {
            _ = try Self.load(Self.variant { root, _ in root["pre_tokenizer"] = NSNull() })
        }
        let otherRegex = ["type": "Split", "pattern": ["Regex": "\\s+"], "behavior": "Isolated", "invert": false] as [String: Any]
        XCTAssertThrowsError(try Self.load(Self.variant { root, _ in
            root["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                otherRegex, ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]]]
        })) { e in
            guard case TokenizerError.unsupportedPreTokenizer(_, let name) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(name.hasPrefix("Sequence[Split(") && name.contains(#"\\s+"#), name)
        }
        for bad: [String: Any] in [
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": false],
                                                   ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true]]],
            ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true],
                                                   ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true]]],
            ["type": "Whitespace"],
        ] {
            XCTAssertThrowsError(try Self.load(Self.variant { root, _ in root["pre_tokenizer"] = bad })) { e in
                guard case TokenizerError.unsupportedPreTokenizer = e else { return XCTFail("\(e)") }
            }
        }
        assertThrows(.unsupportedComponent(source: "tiny.json", key: "normalizer", description: "NFC")) {
            _ = try Self.load(Self.variant { root, _ in root["normalizer"] = ["type": "NFC"] })
        }
        XCTAssertNoThrow(try Self.load(Self.variant { root, _ in root["normalizer"] = ["type": "Sequence", "normalizers": []] }))
        assertThrows(.unsupportedComponent(source: "tiny.json", key: "decoder", description: #"WordPiece(prefix: "@@")"#)) {
            _ = try Self.load(Self.variant { root, _ in root["decoder"] = ["type": "WordPiece", "prefix": "@@"] })
        }
        XCTAssertThrowsError(try Self.load(Self.variant { root, _ in root["decoder"] = NSNull() })) { e in
            guard case TokenizerError.unsupportedComponent(_, "decoder", _) = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try Self.load(Self.variant { _, model in model["byte_fallback"] = true })) { e in
            guard case TokenizerError.unsupportedComponent("tiny.json", "model.byte_fallback", _) = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try Self.load(Self.variant { _, model in model["dropout"] = 0.1 })) { e in
            guard case TokenizerError.unsupportedComponent("tiny.json", "model.dropout", _) = e else { return XCTFail("\(e)") }
        }
        XCTAssertNoThrow(try Self.load(Self.variant { _, model in model["dropout"] = 0 }))
        XCTAssertThrowsError(try Self.load(Self.variant { _, model in model["continuing_subword_prefix"] = "##" })) { e in
            guard case TokenizerError.unsupportedComponent("tiny.json", "model.continuing_subword_prefix", _) = e else { return XCTFail("\(e)") }
        }
        // A template that appends a token after the text (an EOS) is not silently dropped.
        XCTAssertThrowsError(try Self.load(Self.variant { root, _ in
            root["post_processor"] = ["type": "TemplateProcessing",
                "single": [["Sequence": ["id": "A", "type_id": 0]], ["SpecialToken": ["id": "<|endoftext|>", "type_id": 0]]],
                "pair": [], "special_tokens": ["<|endoftext|>": ["id": "<|endoftext|>", "ids": [0], "tokens": ["<|endoftext|>"]]]]
        })) { e in
            guard case TokenizerError.unsupportedComponent("tiny.json", "post_processor.single", let d) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(d.contains("$A <|endoftext|>"), d)
        }
        XCTAssertThrowsError(try Self.load(Self.variant { root, _ in
            root["post_processor"] = ["type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]]
        })) { e in
            guard case TokenizerError.unsupportedComponent("tiny.json", "post_processor", _) = e else { return XCTFail("\(e)") }
        }
    }

    func testMergeErrorsNameTheIndex() throws {
        assertThrows(.invalidMerge(source: "tiny.json", index: 2, merge: "l zz", reason: "a part is not in the vocabulary: 'zz'")) {
            _ = try Self.load(Self.variant { _, model in model["merges"] = ["l o", "lo w", "l zz"] })
        }
        assertThrows(.invalidMerge(source: "tiny.json", index: 1, merge: "a b",
                                   reason: "the merged token is not in the vocabulary: 'ab'")) {
            _ = try Self.load(Self.variant { _, model in model["merges"] = [["l", "o"], ["a", "b"]] })
        }
        assertThrows(.invalidMerge(source: "tiny.json", index: 0, merge: "l o w", reason: "expected two tokens separated by one space")) {
            _ = try Self.load(Self.variant { _, model in model["merges"] = ["l o w"] })
        }
        assertThrows(.invalidMerge(source: "tiny.json", index: 1, merge: #"["l","o","w"]"#,
                                   reason: #"expected "left right" or ["left", "right"]"#)) {
            _ = try Self.load(Self.variant { _, model in model["merges"] = [["l", "o"], ["l", "o", "w"]] })
        }
        XCTAssertThrowsError(try Self.load(Self.variant { _, model in model["merges"] = ["l o", 7] })) { e in
            guard case TokenizerError.invalidMerge("tiny.json", 1, "7", _) = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("tiny.json") && "\(e)".contains("#1"), "\(e)")
        }
    }

    func testVocabularyIDErrors() throws {
        func withVocab(_ change: @escaping (inout [String: Any]) -> Void) throws -> Data {
            try Self.variant { _, model in
                var vocab = model["vocab"] as! [String: Any]
                change(&vocab)
                model["vocab"] = vocab
            }
        }
        assertThrows(.duplicateTokenID(source: "tiny.json", id: 16, first: "a", second: "b")) {
            _ = try Self.load(withVocab { $0["b"] = 16 })
        }
        assertThrows(.tokenIDOutOfRange(source: "tiny.json", token: "b", id: 99, vocabularySize: 20)) {
            _ = try Self.load(withVocab { $0["b"] = 99 })
        }
        assertThrows(.tokenIDOutOfRange(source: "tiny.json", token: "b", id: -1, vocabularySize: 20)) {
            _ = try Self.load(withVocab { $0["b"] = -1 })
        }
        // An added token whose id belongs to a different model entry.
        assertThrows(.duplicateTokenID(source: "tiny.json", id: 1, first: "l", second: "<x>")) {
            _ = try Self.load(Self.variant { root, _ in
                root["added_tokens"] = [["id": 1, "content": "<x>", "special": true]]
            })
        }
        // A gap: id 18 (<|im_start|>) removed leaves 19 out of range.
        XCTAssertThrowsError(try Self.load(Self.variant { root, _ in
            root["added_tokens"] = [["id": 0, "content": "<|endoftext|>", "special": true],
                                    ["id": 19, "content": "<tag>", "special": false]]
        })) { e in
            XCTAssertEqual(e as? TokenizerError, .tokenIDOutOfRange(source: "tiny.json", token: "<tag>", id: 19, vocabularySize: 19))
            XCTAssertTrue("\(e)".contains("densely"), "\(e)")
        }
        assertThrows(.invalidField(source: "tiny.json", key: "added_tokens[0].content", reason: "an added token cannot be empty")) {
            _ = try Self.load(Self.variant { root, _ in root["added_tokens"] = [["id": 0, "content": "", "special": true]] })
        }
    }
}
