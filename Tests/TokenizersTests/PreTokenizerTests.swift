import XCTest
@testable import Tokenizers

final class PreTokenizerTests: XCTestCase {
    /// Hand-checked against the GPT-2 regex
    /// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    func testGPT2RegexHandChecked() {
        let p = PreTokenizer.gpt2
        XCTAssertEqual(p.split("Hello world"), ["Hello", " world"])
        XCTAssertEqual(p.split("I'm here, it's 2024!"), ["I", "'m", " here", ",", " it", "'s", " 2024", "!"])
        XCTAssertEqual(p.split("we'll they've you're I'd"), ["we", "'ll", " they", "'ve", " you", "'re", " I", "'d"])
        XCTAssertEqual(p.split("DON'T 'quote'"), ["DON", "'", "T", " '", "quote", "'"], "contractions are lowercase only")
        XCTAssertEqual(p.split("a  b"), ["a", " ", " b"])
        XCTAssertEqual(p.split("a   b"), ["a", "  ", " b"])
        XCTAssertEqual(p.split("a \n b"), ["a", " \n", " b"])
        XCTAssertEqual(p.split("a\nb"), ["a", "\n", "b"])
        XCTAssertEqual(p.split("end   "), ["end", "   "])
        XCTAssertEqual(p.split("  lead"), [" ", " lead"])
        XCTAssertEqual(p.split("$1,234.56"), ["$", "1", ",", "234", ".", "56"])
        XCTAssertEqual(p.split("Q3 2024 -3.5%"), ["Q", "3", " 2024", " -", "3", ".", "5", "%"])
        XCTAssertEqual(p.split("x...!? y"), ["x", "...!?", " y"])
        XCTAssertEqual(p.split("café 中文"), ["café", " 中文"])
        XCTAssertEqual(p.split("tab\there"), ["tab", "\t", "here"])
        XCTAssertEqual(p.split(""), [])
        XCTAssertEqual(p.split(" "), [" "])
    }

    func testSmolLMSplitsEveryDigit() {
        let p = PreTokenizer.smollm
        XCTAssertEqual(p.split("Q3 2024"), ["Q", "3", " ", "2", "0", "2", "4"])
        XCTAssertEqual(p.split("a  1"), ["a", "  ", "1"], "whitespace before a digit ends its segment")
        XCTAssertEqual(p.split("$1,234.56"), ["$", "1", ",", "2", "3", "4", ".", "5", "6"])
        XCTAssertEqual(p.split("x²½"), ["x", "²", "½"], "\\p{N} includes No")
    }

    func testPiecesMatchHuggingFaceGoldens() throws {
        let goldens = try TokenizerGoldens.load()
        for c in goldens.cases {
            XCTAssertEqual(PreTokenizer.smollm.split(c.text), c.pieces, "smollm pieces of \(c.text.debugDescription)")
            XCTAssertEqual(PreTokenizer.gpt2.split(c.text), c.gpt2_pieces, "gpt2 pieces of \(c.text.debugDescription)")
        }
    }

    func testPiecesConcatenateToInput() {
        let samples = ["", "x", "  a\t\tb \n\n c  ", "mixed 123 ünï  ¥€ 🚀🚀", "e\u{301}\u{301} n\u{303}"]
        for s in samples {
            for p in PreTokenizer.allCases {
                XCTAssertEqual(p.split(s).joined(), s)
                XCTAssertFalse(p.split(s).contains(""))
            }
        }
    }

    func testGGMLNames() {
        XCTAssertEqual(PreTokenizer(ggmlName: "smollm"), .smollm)
        XCTAssertEqual(PreTokenizer(ggmlName: "gpt2"), .gpt2)
        XCTAssertEqual(PreTokenizer(ggmlName: "llama-bpe"), .llama3)
        XCTAssertNil(PreTokenizer(ggmlName: "qwen2"))
    }
}
