import Foundation
import XCTest
import IO
import TestSupport
@testable import Tokenizers

/// The `.llama3` pre-tokenizer and Llama-3-style tokenizer.json files, against Hugging Face
/// `tokenizers` (goldens from dev/make_llama3_pretokenizer_goldens.py).
final class Llama3PreTokenizerTests: XCTestCase {
    /// Hand-checked against the Llama 3 regex, alternative by alternative.
    func testHandCheckedSplits() {
        let p = PreTokenizer.llama3
        // Contractions are case-insensitive; a letter run takes one leading non-letter scalar.
        XCTAssertEqual(p.split("I'M here"), ["I", "'M", " here"])
        XCTAssertEqual(p.split("'quote'"), ["'quote", "'"])
        XCTAssertEqual(p.split("\thello"), ["\thello"], "a tab may lead a letter run")
        XCTAssertEqual(p.split("a\nb"), ["a", "\n", "b"], "but CR/LF may not")
        // At most three digits per piece, no leading space.
        XCTAssertEqual(p.split("1234567"), ["123", "456", "7"])
        XCTAssertEqual(p.split(" 42"), [" ", "42"])
        // Punctuation keeps the line breaks after it.
        XCTAssertEqual(p.split("end.\n\nNext"), ["end", ".\n\n", "Next"])
        // Whitespace: up to the last line break, then GPT-2's \s+(?!\S).
        XCTAssertEqual(p.split("x  \n  y"), ["x", "  \n", " ", " y"])
        XCTAssertEqual(p.split("a   b"), ["a", "  ", " b"])
        XCTAssertEqual(p.split("end   "), ["end", "   "])
        XCTAssertEqual(p.split(""), [])
    }

    func testSplitsMatchHuggingFace() throws {
        let goldens = try Llama3Goldens.load()
        XCTAssertEqual(goldens.pattern, PreTokenizer.llama3Pattern, "the fixture was made with the same regex")
        XCTAssertGreaterThanOrEqual(goldens.cases.count, 30)
        for c in goldens.cases {
            XCTAssertEqual(PreTokenizer.llama3.split(c.text), c.pieces, "pieces of \(c.text.debugDescription)")
        }
    }

    func testGGMLNames() {
        for name in ["llama3", "llama-v3", "llama-bpe"] { XCTAssertEqual(PreTokenizer(ggmlName: name), .llama3) }
    }

    /// A tokenizer.json with Llama 3's structure (Split + ByteLevel pre-tokenizer, ignore_merges,
    /// a BOS template inside a post-processor Sequence), saved by Hugging Face.
    func testLlama3StyleTokenizerJSONMatchesHuggingFace() throws {
        let path = Llama3Goldens.fixtureURL("llama3_style_tokenizer.json").path
        let t = try BPETokenizer(tokenizerJSONPath: path)
        let goldens = try Llama3Goldens.load()
        XCTAssertEqual(t.vocabularySize, goldens.vocab_size)
        XCTAssertEqual(t.preTokenizer, .llama3)
        XCTAssertTrue(t.ignoreMerges)
        XCTAssertFalse(t.addPrefixSpace)
        XCTAssertTrue(t.addBOS)
        XCTAssertEqual(t.bosID, t.id(of: "<|begin_of_text|>"))
        XCTAssertEqual(t.eosID, t.id(of: "<|end_of_text|>"), "no tokenizer_config.json: EOS falls back by name")
        XCTAssertEqual(t.tokenTypes[Int(t.id(of: "<tag>")!)], .userDefined)
        for c in goldens.cases {
            XCTAssertEqual(t.encode(c.text), c.ids, "encode \(c.text.debugDescription)")
            XCTAssertEqual(t.encode(c.text, allowSpecial: false), c.ids_no_special, "encode (no special) \(c.text.debugDescription)")
            XCTAssertEqual(t.decode(c.ids), c.decoded)
        }
    }

    /// ignore_merges must matter for the goldens: without it " zqx" is not one token.
    func testIgnoreMergesChangesTheResult() throws {
        let url = Llama3Goldens.fixtureURL("llama3_style_tokenizer.json")
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var model = try XCTUnwrap(json["model"] as? [String: Any])
        model["ignore_merges"] = false
        json["model"] = model
        let merging = try BPETokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: json))
        let ignoring = try BPETokenizer(tokenizerJSONPath: url.path)
        let zqx = try XCTUnwrap(ignoring.id(of: "Ġzqx"))
        XCTAssertEqual(ignoring.encode(" zqx", addBOS: false), [zqx])
        XCTAssertFalse(merging.ignoreMerges)
        XCTAssertNotEqual(merging.encode(" zqx", addBOS: false), [zqx])
        XCTAssertEqual(merging.decode(merging.encode(" zqx", addBOS: false)), " zqx")
    }

    /// The same vocabulary in GGUF metadata with `tokenizer.ggml.pre` = "llama-bpe" (as llama.cpp's
    /// converter writes Llama 3) gives the same ids: llama.cpp also ignores merges for it.
    func testGGUFWithLlamaBPEMatchesHuggingFace() throws {
        let reference = try BPETokenizer(tokenizerJSONPath: Llama3Goldens.fixtureURL("llama3_style_tokenizer.json").path)
        let url = Llama3Goldens.fixtureURL("llama3_style_tokenizer.json")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let merges = try XCTUnwrap((json["model"] as? [String: Any])?["merges"] as? [[String]]).map { $0.joined(separator: " ") }
        var b = GGUFBuilder()
        b.metadata = [
            ("general.architecture", .string("llama")),
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("llama-bpe")),
            ("tokenizer.ggml.tokens", .array(8, reference.tokens.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(5, reference.tokenTypes.map { .i32($0.rawValue) })),
            ("tokenizer.ggml.merges", .array(8, merges.map { .string($0) })),
            ("tokenizer.ggml.bos_token_id", .u32(UInt32(reference.bosID!))),
            ("tokenizer.ggml.add_bos_token", .bool(true)),
        ]
        let t = try BPETokenizer(gguf: GGUFFile(data: b.build(), name: "llama3-tiny.gguf"))
        XCTAssertEqual(t.preTokenizer, .llama3)
        XCTAssertTrue(t.ignoreMerges)
        for c in try Llama3Goldens.load().cases {
            XCTAssertEqual(t.encode(c.text), c.ids, "encode \(c.text.debugDescription)")
        }
    }
}
