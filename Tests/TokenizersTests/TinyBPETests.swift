import Foundation
import XCTest
import IO
import Tensor
import TestSupport
@testable import Tokenizers

final class TinyBPETests: XCTestCase {
    /// 256 byte tokens (id = byte value), a control token, and a few merges whose results are
    /// worked out by hand below.
    static let vocabulary: [String] = ByteLevelEncoding.byteToScalar.map { String($0) }
        + ["<|endoftext|>", "lo", "low", "Ġl", "Ġlow", "er", "lower", "aa", "ab", "ba", "aba", "aaaa"]
    static let merges = ["l o", "lo w", "Ġ l", "e r", "low er", "Ġ low", "a a", "a b", "b a", "ab a", "aa aa"]
    static let types: [TokenType] = (0..<256).map { _ in .normal } + [.control] + Array(repeating: .normal, count: 11)

    static func make(pre: PreTokenizer = .gpt2) throws -> BPETokenizer {
        try BPETokenizer(tokens: vocabulary, tokenTypes: types, merges: merges, preTokenizer: pre,
                         bosID: 256, eosID: 256, source: "tiny")
    }

    func testHandWorkedMerges() throws {
        let t = try Self.make()
        XCTAssertEqual(t.vocabularySize, 268)
        // l o w e r: "l o"(0) -> "lo w"(1) -> "e r"(3) -> "low er"(4).
        XCTAssertEqual(t.encode("lower"), [262])
        // Ġ l o w e r: "l o"(0) beats "Ġ l"(2), so "Ġl" never forms; "e r"(3) before "Ġ low"(5),
        // and "low er"(4) before it too, leaving Ġ + lower.
        XCTAssertEqual(t.encode(" lower"), [32, 262])
        XCTAssertEqual(t.encode(" low"), [260])
        // Ties go leftmost: a a a a a -> aa a a a -> aa aa a -> aaaa a.
        XCTAssertEqual(t.encode("aaaaa"), [267, 97])
        // a b a: "a b"(7) -> "ab a"(9).
        XCTAssertEqual(t.encode("aba"), [266])
        // b a a: "a a"(6) beats "b a"(8).
        XCTAssertEqual(t.encode("baa"), [98, 263])
        XCTAssertEqual(t.encode("low lower"), [258, 32, 262])
    }

    func testSpecialTokensAndBOS() throws {
        let t = try Self.make()
        XCTAssertEqual(t.encode("low<|endoftext|>lo"), [258, 256, 257])
        let plain = t.encode("low<|endoftext|>lo", allowSpecial: false)
        XCTAssertEqual(plain, [258] + Array("<|".utf8).map(Int32.init) + Array("endoftext".utf8).map(Int32.init)
                       + Array("|>".utf8).map(Int32.init) + [257])
        XCTAssertEqual(t.encode("lo", addBOS: true), [256, 257])
        XCTAssertEqual(t.endOfTextID, 256)
        XCTAssertEqual(t.decode([258, 256, 257]), "low<|endoftext|>lo")
        XCTAssertEqual(t.decode([258, 256, 257], skipSpecial: true), "lowlo")
        XCTAssertEqual(t.tokenToPiece(260), " low")
        XCTAssertEqual(t.tokenBytes(260), Array(" low".utf8))
    }

    func testDecodeRoundTripAndReplacement() throws {
        let t = try Self.make()
        for s in ["", "lower lower  aaa\tba\n", "ünïcødé €¥ 中文 🚀", "e\u{301}"] {
            XCTAssertEqual(t.decode(t.encode(s)), s)
        }
        // A lone lead byte of "€" (E2) followed by "a": one U+FFFD, as Python's errors="replace".
        XCTAssertEqual(t.decode([0xE2, 0x61]), "\u{FFFD}a")
        XCTAssertEqual(t.decode([0xE2, 0x82, 0x61]), "\u{FFFD}a")
        XCTAssertEqual(t.decode([0xED, 0xA0, 0x80]), "\u{FFFD}\u{FFFD}\u{FFFD}")
        XCTAssertEqual(t.decode([-1, 99999]), "\u{FFFD}\u{FFFD}")
    }

    /// The heap-based merge used for long words must agree with the quadratic reference scan.
    func testHeapMergeMatchesScanOnRandomWords() throws {
        let t = try Self.make()
        let alphabet: [UInt8] = Array("ablower ".utf8)
        var rng = RandomGenerator(seed: 7)
        for _ in 0..<500 {
            let n = 2 + rng.nextInt(below: 300)
            let bytes = (0..<n).map { _ in alphabet[rng.nextInt(below: alphabet.count)] }
            let ids = bytes.map { t.byteTokenIDs[Int($0)] }
            XCTAssertEqual(BPEMerger.mergeByHeap(ids, merges: t.merges), BPEMerger.mergeByScan(ids, merges: t.merges))
        }
        // A long single word goes through the heap path inside encode.
        let long = String(repeating: "a", count: 1001)
        XCTAssertEqual(t.encode(long), Array(repeating: 267, count: 250) + [97])
    }

    func testEncodeBatchMatchesSequentialAndEncoderCaches() throws {
        let t = try Self.make()
        let texts = (0..<200).map { i in String(repeating: "lower aab ", count: i % 7) + "\(i)" }
        XCTAssertEqual(t.encodeBatch(texts), texts.map { t.encode($0) })
        var encoder = t.makeEncoder()
        _ = encoder.encode("lower lower lower")
        XCTAssertEqual(encoder.cachedWordCount, 2)   // "lower" and " lower"
    }

    func testMissingByteTokensAreDropped() throws {
        // A vocabulary without a token for byte 0x04: the byte disappears, as in HF and llama.cpp.
        var vocab = Self.vocabulary
        vocab[4] = "<unused4>"
        var types = Self.types
        types[4] = .unused
        let t = try BPETokenizer(tokens: vocab, tokenTypes: types, merges: Self.merges, preTokenizer: .gpt2)
        XCTAssertEqual(t.encode("a\u{04}a"), [97, 97])
        XCTAssertEqual(t.encode("!\u{04}!"), [33, 33])
    }

    func testConstructionErrors() {
        XCTAssertThrowsError(try BPETokenizer(tokens: [], merges: [], preTokenizer: .gpt2))
        XCTAssertThrowsError(try BPETokenizer(tokens: Self.vocabulary, merges: ["l  o"], preTokenizer: .gpt2, source: "v.gguf")) { e in
            guard case TokenizerError.invalidMerge("v.gguf", 0, "l  o", _) = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try BPETokenizer(tokens: Self.vocabulary, merges: ["l q"], preTokenizer: .gpt2)) { e in
            XCTAssertTrue("\(e)".contains("the merged token is not in the vocabulary"), "\(e)")
        }
        XCTAssertThrowsError(try BPETokenizer(tokens: Self.vocabulary, merges: ["l ZZ"], preTokenizer: .gpt2))
        XCTAssertThrowsError(try BPETokenizer(tokens: Self.vocabulary, tokenTypes: [.normal], merges: [], preTokenizer: .gpt2))
        XCTAssertThrowsError(try BPETokenizer(tokens: Self.vocabulary, merges: [], preTokenizer: .gpt2, eosID: 5000)) { e in
            XCTAssertTrue("\(e)".contains("eos token id 5000"), "\(e)")
        }
    }

    // MARK: - Loading from GGUF metadata

    static func ggufBuilder(model: String = "gpt2", pre: String? = "smollm") -> GGUFBuilder {
        var b = GGUFBuilder()
        b.metadata = [("general.architecture", .string("llama")), ("tokenizer.ggml.model", .string(model))]
        if let pre { b.metadata.append(("tokenizer.ggml.pre", .string(pre))) }
        b.metadata += [
            ("tokenizer.ggml.tokens", .array(8, vocabulary.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(5, types.map { .i32($0.rawValue) })),
            ("tokenizer.ggml.merges", .array(8, merges.map { .string($0) })),
            ("tokenizer.ggml.bos_token_id", .u32(256)),
            ("tokenizer.ggml.eos_token_id", .u32(256)),
            ("tokenizer.ggml.add_bos_token", .bool(true)),
        ]
        return b
    }

    func testLoadsFromGGUFMetadata() throws {
        let t = try BPETokenizer(gguf: GGUFFile(data: Self.ggufBuilder().build(), name: "tiny.gguf"))
        XCTAssertEqual(t.preTokenizer, .smollm)
        XCTAssertEqual(t.source, "tiny.gguf")
        XCTAssertEqual(t.bosID, 256)
        XCTAssertTrue(t.addBOS)
        XCTAssertEqual(t.encode("lower 12"), [256, 262, 32, 49, 50])
        XCTAssertEqual(t.encode("lower", addBOS: false), [262])
        let noPre = try BPETokenizer(gguf: GGUFFile(data: Self.ggufBuilder(pre: nil).build()))
        XCTAssertEqual(noPre.preTokenizer, .gpt2)
    }

    func testUnsupportedModelAndPreTokenizerAreClearErrors() throws {
        XCTAssertThrowsError(try BPETokenizer(gguf: GGUFFile(data: Self.ggufBuilder(model: "llama").build(), name: "spm.gguf"))) { e in
            XCTAssertEqual(e as? TokenizerError, .unsupportedModel(source: "spm.gguf", model: "llama"))
            XCTAssertTrue("\(e)".contains("spm.gguf") && "\(e)".contains("'llama'"))
        }
        XCTAssertThrowsError(try BPETokenizer(gguf: GGUFFile(data: Self.ggufBuilder(pre: "qwen2").build(), name: "q2.gguf"))) { e in
            XCTAssertEqual(e as? TokenizerError, .unsupportedPreTokenizer(source: "q2.gguf", name: "qwen2"))
            XCTAssertTrue("\(e)".contains("qwen2") && "\(e)".contains("smollm"))
        }
        var b = Self.ggufBuilder()
        b.metadata.removeAll { $0.0 == "tokenizer.ggml.merges" }
        XCTAssertThrowsError(try BPETokenizer(gguf: GGUFFile(data: b.build(), name: "nomerges.gguf"))) { e in
            XCTAssertEqual(e as? IOError, .missingKey(file: "nomerges.gguf", key: "tokenizer.ggml.merges"))
        }
        b = Self.ggufBuilder()
        b.metadata.removeAll { $0.0 == "tokenizer.ggml.model" }
        XCTAssertThrowsError(try BPETokenizer(gguf: GGUFFile(data: b.build(), name: "m.gguf"))) { e in
            XCTAssertEqual(e as? IOError, .missingKey(file: "m.gguf", key: "tokenizer.ggml.model"))
        }
    }
}
