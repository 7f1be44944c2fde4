import Evaluation
import Foundation
import TestSupport
import XCTest

final class SentimentDatasetReaderTests: XCTestCase {
    typealias Reader = SentimentDatasetReader

    /// Asserts that `body` throws a row error for `line` of `file`.
    func assertRowError(line: Int, file: String = "x", _ body: () throws -> Any, _ message: String = "",
                        sourceFile: StaticString = #filePath, sourceLine: UInt = #line) {
        XCTAssertThrowsError(try body(), message, file: sourceFile, line: sourceLine) { error in
            guard case EvaluationError.malformedRow(let f, let l, _)? = error as? EvaluationError else {
                return XCTFail("expected a row error, got \(error)", file: sourceFile, line: sourceLine)
            }
            XCTAssertEqual(f, file, file: sourceFile, line: sourceLine)
            XCTAssertEqual(l, line, "\(error)", file: sourceFile, line: sourceLine)
        }
    }

    func testFinGPTJSONLUsesTheRowsOwnInstructionAndSource() throws {
        let text = """
        {"instruction": "What is the sentiment of this tweet? Please choose an answer from {negative/neutral/positive}.", "input": "$X up 5%", "output": "positive", "source": "tfns"}\r

        {"instruction": "Rate it.", "input": "Profit fell .", "output": " Negative", "label_id": 0}
        """
        let ex = try Reader.parse(text, source: "x", dataset: .sentiment)
        XCTAssertEqual(ex.count, 2)
        XCTAssertEqual(ex[0], SentimentExample(instruction: SentimentInstruction.tweet, input: "$X up 5%", label: .positive, line: 1, source: "tfns"))
        XCTAssertEqual(ex[1].instruction, "Rate it.")
        XCTAssertEqual(ex[1].label, .negative)
        XCTAssertEqual(ex[1].line, 3)
        XCTAssertNil(ex[1].source)
        // a FinGPT file given to a named task takes the task as its source
        XCTAssertEqual(try Reader.parse(text, source: "x", dataset: .fpb)[1].source, "fpb")
        assertRowError(line: 2, { try Reader.parse("{\"instruction\": \"i\", \"input\": \"a\", \"output\": \"neutral\"}\n{\"instruction\": \"i\", \"input\": \"b\", \"output\": \"bullish\"}", source: "x", dataset: .sentiment) })
        assertRowError(line: 2, { try Reader.parse("{\"instruction\": \"i\", \"input\": \"a\", \"output\": \"neutral\"}\n{\"instruction\": \"i\", \"output\": \"neutral\"}", source: "x", dataset: .sentiment) })
        assertRowError(line: 3, { try Reader.parse("{\"instruction\": \"i\", \"input\": \"a\", \"output\": \"neutral\"}\n\n{\"instruction\": ", source: "x", dataset: .sentiment) })
        XCTAssertThrowsError(try Reader.parse("plain text@positive", source: "x", dataset: .sentiment))
    }

    func testJSONValueKeepsNumbersBooleansAndStringsApart() throws {
        guard case .object(let o) = try JSONValue.parse("{\"a\": 0, \"b\": true, \"c\": 1.5, \"d\": \"2\", \"e\": null, \"f\": [1]}") else {
            return XCTFail("not an object")
        }
        XCTAssertEqual(o["a"], .number(0))
        XCTAssertEqual(o["b"], .bool(true))
        XCTAssertEqual(o["c"], .number(1.5))
        XCTAssertEqual(o["d"]?.integer, 2)
        XCTAssertEqual(o["a"]?.text, "0")
        XCTAssertEqual(o["e"], .null)
        XCTAssertEqual(o["f"], .array([.number(1)]))
        XCTAssertNil(o["c"]?.integer)
    }

    func testFPBRawText() throws {
        let text = "Operating profit rose to EUR 13.1 mn .@positive\nShares of X @ Helsinki were flat .@neutral\r\nSales fell .@negative\n"
        let ex = try Reader.parse(text, source: "x", dataset: .fpb)
        XCTAssertEqual(ex.map(\.label), [.positive, .neutral, .negative])
        XCTAssertEqual(ex[1].input, "Shares of X @ Helsinki were flat .", "the label follows the last @")
        XCTAssertEqual(ex[2].input, "Sales fell .")
        XCTAssertEqual(ex.map(\.line), [1, 2, 3])
        XCTAssertEqual(Set(ex.map(\.instruction)), [SentimentInstruction.news])
        assertRowError(line: 3, { try Reader.parse("a .@positive\nb .@neutral\nno label here\n", source: "x", dataset: .fpb) })
        assertRowError(line: 2, { try Reader.parse("a .@positive\nb .@bullish\n", source: "x", dataset: .fpb) })
        // the PhraseBank files are Latin-1: read() falls back to it
        let dir = try FixturePaths.makeTemporaryDirectory("fpb")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("Sentences_50Agree.txt").path
        try Data("Ahlstr\u{F6}m profit rose .@positive\n".data(using: .isoLatin1)!).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try Reader.read(path: path, dataset: .fpb).first?.input, "Ahlstr\u{F6}m profit rose .")
    }

    func testTFNSRawCSV() throws {
        let text = #"""
        text,label
        "$AAPL beats, raises ""guidance""",1
        Fed holds rates,2
        "Stocks slide
        on tariffs",0
        """#
        let ex = try Reader.parse(text, source: "x", dataset: .tfns)
        XCTAssertEqual(ex.map(\.label), [.positive, .neutral, .negative])
        XCTAssertEqual(ex[0].input, "$AAPL beats, raises \"guidance\"")
        XCTAssertEqual(ex[2].input, "Stocks slide\non tariffs")
        XCTAssertEqual(ex.map(\.line), [2, 3, 4])
        XCTAssertEqual(Set(ex.map(\.instruction)), [SentimentInstruction.tweet])
        // the same rows as JSON Lines, labels as JSON numbers
        let jsonl = try Reader.parse("{\"text\": \"up\", \"label\": 1}\n{\"text\": \"down\", \"label\": 0}", source: "x", dataset: .tfns)
        XCTAssertEqual(jsonl.map(\.label), [.positive, .negative])
        assertRowError(line: 3, { try Reader.parse("text,label\na,0\nb,3\n", source: "x", dataset: .tfns) })
        assertRowError(line: 3, { try Reader.parse("text,label\na,0\nb,one\n", source: "x", dataset: .tfns) })
        assertRowError(line: 2, { try Reader.parse("text,label\na,0,extra\n", source: "x", dataset: .tfns) })
        assertRowError(line: 3, { try Reader.parse("text,label\na,0\n\"never closed,1\n", source: "x", dataset: .tfns) })
        assertRowError(line: 2, { try Reader.parse("tweet,label\na,0\n", source: "x", dataset: .tfns) })
    }

    func testFiQARawRowsAndOriginalJSON() throws {
        let rows = """
        {"sentence": "$TSLA breaking out", "target": "TSLA", "sentiment_score": 0.45, "format": "post"}
        {"sentence": "Barclays fined", "sentiment_score": "-0.374", "format": "headline"}
        {"sentence": "Shell flat", "sentiment_score": -0.1, "format": "headline"}
        """
        let ex = try Reader.parse(rows, source: "x", dataset: .fiqa)
        XCTAssertEqual(ex.map(\.label), [.positive, .negative, .neutral])
        XCTAssertEqual(ex.map(\.instruction), [SentimentInstruction.tweet, SentimentInstruction.news, SentimentInstruction.news])
        let csv = try Reader.parse("sentence,sentiment_score,format\nGood quarter,0.1,headline\n", source: "x", dataset: .fiqa)
        XCTAssertEqual(csv.first?.label, .positive)
        assertRowError(line: 3, { try Reader.parse("sentence,sentiment_score\na,0.5\nb,high\n", source: "x", dataset: .fiqa) })
        let original = """
        {"12": {"sentence": "Tesco sales slump", "info": [{"snippets": "['sales slump']", "target": "Tesco", "sentiment_score": "-0.55", "aspects": "[]"}]},
         "3": {"sentence": "BP and Shell up", "info": [{"target": "BP", "sentiment_score": "0.3"}, {"target": "Shell", "sentiment_score": "0.05"}]}}
        """
        let o = try Reader.parse(original, source: "task1_headline_ABSA_train.json", dataset: .fiqa)
        XCTAssertEqual(o.map(\.input), ["BP and Shell up", "BP and Shell up", "Tesco sales slump"], "id order, one row per target")
        XCTAssertEqual(o.map(\.label), [.positive, .neutral, .negative])
        XCTAssertEqual(o.map(\.line), [3, 3, 12])
        XCTAssertEqual(o[0].instruction, SentimentInstruction.news)
        XCTAssertEqual(try Reader.parse(original, source: "task1_post_ABSA_train.json", dataset: .fiqa)[0].instruction, SentimentInstruction.tweet)
        XCTAssertThrowsError(try Reader.parse("{\"1\": {\"sentence\": \"a\", \"info\": [{\"sentiment_score\": \"big\"}]}}", source: "x", dataset: .fiqa))
    }

    func testNWGIRawRows() throws {
        let text = """
        {"news": "Company A beats estimates", "label": "moderately positive", "prompt": "..."}
        {"news": "Company B guides slightly lower", "label": "mildly negative"}
        {"news": "Company C collapses", "label": "strong negative"}
        """
        let ex = try Reader.parse(text, source: "x", dataset: .nwgi)
        XCTAssertEqual(ex.map(\.label), [.positive, .neutral, .negative])
        XCTAssertEqual(Set(ex.map(\.source)), ["nwgi"])
        let csv = try Reader.parse("news,label\n\"Fed, ECB hold\",neutral\n", source: "x", dataset: .nwgi)
        XCTAssertEqual(csv.first?.input, "Fed, ECB hold")
        assertRowError(line: 2, { try Reader.parse("{\"news\": \"a\", \"label\": \"neutral\"}\n{\"news\": \"b\", \"label\": \"very bad\"}", source: "x", dataset: .nwgi) })
        XCTAssertThrowsError(try Reader.parse("news,label\n", source: "x", dataset: .nwgi), "no examples")
    }
}
