import XCTest
import IO
import TestSupport
@testable import Tokenizers

/// Checks the Swift tokenizer against Hugging Face `tokenizers` (and llama.cpp) on the real
/// SmolLM2 vocabulary; see dev/make_tokenizer_goldens.py.
final class SmolLM2TokenizerTests: XCTestCase {
    nonisolated(unsafe) static var cached: BPETokenizer?

    func tokenizer() throws -> BPETokenizer {
        guard let path = FixturePaths.smolLM2Model else {
            throw XCTSkip("SmolLM2 GGUF not found (run `make setup` or set FINGPT_MODEL)")
        }
        if let t = Self.cached { return t }
        let t = try BPETokenizer(ggufPath: path)
        Self.cached = t
        return t
    }

    func testVocabularyAndSpecialIDs() throws {
        let t = try tokenizer()
        let goldens = try TokenizerGoldens.load()
        XCTAssertEqual(t.vocabularySize, goldens.vocab_size)
        XCTAssertEqual(t.preTokenizer, .smollm)
        XCTAssertEqual(t.endOfTextID, 0)
        XCTAssertEqual(t.bosID, 1)
        XCTAssertEqual(t.eosID, 2)
        XCTAssertEqual(t.padID, 2)
        XCTAssertFalse(t.addBOS)
        XCTAssertEqual(t.mergeCount, 48900)
        XCTAssertEqual(t.tokenToPiece(0), "<|endoftext|>")
        XCTAssertEqual(t.tokenToPiece(1), "<|im_start|>")
    }

    func testEncodeMatchesGoldens() throws {
        let t = try tokenizer()
        let goldens = try TokenizerGoldens.load()
        XCTAssertGreaterThanOrEqual(goldens.cases.count, 40)
        for c in goldens.cases {
            XCTAssertEqual(t.encode(c.text), c.ids, "encode \(c.text.debugDescription)")
            XCTAssertEqual(t.encode(c.text, allowSpecial: false), c.ids_no_special, "encode (no special) \(c.text.debugDescription)")
        }
    }

    func testDecodeMatchesGoldensAndRoundTrips() throws {
        let t = try tokenizer()
        let goldens = try TokenizerGoldens.load()
        for c in goldens.cases {
            XCTAssertEqual(t.decode(c.ids), c.decoded)
            XCTAssertEqual(t.decode(t.encode(c.text)), c.decoded, "round trip \(c.text.debugDescription)")
            if c.decoded == c.text { XCTAssertEqual(t.decode(t.encode(c.text, allowSpecial: false)), c.text) }
        }
        for d in goldens.decode_cases {
            XCTAssertEqual(t.decode(d.ids), d.text, "decode \(d.ids)")
        }
        // Pieces of single tokens come from the goldens: " $" is one token in the first case.
        XCTAssertEqual(t.tokenToPiece(1885), " $")
    }

    func testBatchEncodingMatchesSequential() throws {
        let t = try tokenizer()
        let texts = try TokenizerGoldens.load().cases.map(\.text)
        XCTAssertEqual(t.encodeBatch(texts + texts), (texts + texts).map { t.encode($0) })
    }
}
