import Foundation
import XCTest
import TestSupport
@testable import Data

final class InstructionFileReaderTests: XCTestCase {
    func parse(_ text: String, file: String = "inline.jsonl") throws -> [InstructionExample] {
        try InstructionFileReader.parse(Data(text.utf8), file: file)
    }

    /// The error's file and line, or a failure when `body` does not throw `malformedLine`.
    func malformedLine(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> (Int, String)? {
        do {
            _ = try parse(text)
            XCTFail("expected an error for \(text.debugDescription)", file: file, line: line)
        } catch InstructionDataError.malformedLine(let f, let l, let reason) {
            XCTAssertEqual(f, "inline.jsonl", file: file, line: line)
            return (l, reason)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return nil
    }

    func testReadsBothFormsSkipsBlankLinesAndKeepsLineNumbers() throws {
        let text = """
        {"instruction": "What is the sentiment?", "input": "Shares rose {sharply}.", "output": "positive", "src_index": 7}

          \t
        {"prompt": "Q: 2+2?\\nA:", "completion": " 4"}\r
        {"instruction": "Summarize", "output": "ok", "extra": [1, 2]}
        """
        let rows = try parse(text)
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[0], InstructionExample(prompt: .fields(instruction: "What is the sentiment?", input: "Shares rose {sharply}."),
                                                   answer: "positive", file: "inline.jsonl", line: 1))
        XCTAssertEqual(rows[1], InstructionExample(prompt: .text("Q: 2+2?\nA:"), answer: " 4", file: "inline.jsonl", line: 4))
        XCTAssertEqual(rows[2], InstructionExample(prompt: .fields(instruction: "Summarize", input: ""), answer: "ok",
                                                   file: "inline.jsonl", line: 5))
    }

    func testByteOrderMarkAndTrailingNewlineAreAccepted() throws {
        let rows = try InstructionFileReader.parse(Data([0xEF, 0xBB, 0xBF] + Array(#"{"prompt":"a","completion":"b"}"#.utf8) + [0x0A]),
                                                   file: "bom.jsonl")
        XCTAssertEqual(rows, [InstructionExample(prompt: .text("a"), answer: "b", file: "bom.jsonl", line: 1)])
    }

    func testMalformedLinesNameTheirLineNumber() {
        let good = #"{"instruction": "i", "input": "x", "output": "o"}"#
        let cases: [(String, Int, String)] = [
            (good + "\n" + #"{"instruction": "i", "input": "x""#, 2, "not valid JSON"),
            (good + "\n\n" + #"["instruction", "output"]"#, 3, "expected a JSON object, found an array"),
            (#""just a string""#, 1, "found a string"),
            (good + "\n" + #"{"instruction": "i", "input": "x"}"#, 2, "missing required field \"output\""),
            (#"{"instruction": "i", "input": 3, "output": "o"}"#, 1, "field \"input\" must be a string, found a number"),
            (#"{"instruction": "i", "input": "x", "output": true}"#, 1, "field \"output\" must be a string, found a boolean"),
            (#"{"instruction": null, "output": "o"}"#, 1, "field \"instruction\" must be a string, found null"),
            (#"{"prompt": "p"}"#, 1, "missing required field \"completion\""),
            (#"{"prompt": "p", "completion": ""}"#, 1, "field \"completion\" is empty"),
            (#"{"instruction": "i", "output": "o", "prompt": "p", "completion": "c"}"#, 1, "both"),
            (good + "\n" + good + "\n" + #"{"text": "t"}"#, 3, "found keys \"text\""),
            (#"{}"#, 1, "an empty object"),
        ]
        for (text, expectedLine, fragment) in cases {
            guard let found = malformedLine(text) else { continue }
            XCTAssertEqual(found.0, expectedLine, text)
            XCTAssertTrue(found.1.contains(fragment), "\(found.1) should mention \(fragment)")
        }
    }

    func testInvalidUTF8IsRefusedWithItsLine() {
        let bytes = Array(#"{"prompt":"a","completion":"b"}"#.utf8) + [0x0A] + Array(#"{"prompt":""#.utf8) + [0xFF, 0xFE] + Array(#"","completion":"b"}"#.utf8)
        XCTAssertThrowsError(try InstructionFileReader.parse(Data(bytes), file: "bad.jsonl")) { error in
            XCTAssertEqual(error as? InstructionDataError, .malformedLine(file: "bad.jsonl", line: 2, reason: "the line is not valid UTF-8"))
        }
    }

    func testErrorDescriptionStartsWithFileAndLine() {
        XCTAssertEqual(InstructionDataError.malformedLine(file: "a.jsonl", line: 12, reason: "r").description, "a.jsonl:12: r")
    }

    func testReadingFilesMissingAndEmpty() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("instr-reader")
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.jsonl").path
        try Data("\n  \n".utf8).write(to: URL(fileURLWithPath: empty))
        XCTAssertThrowsError(try InstructionFileReader.read(path: empty)) { error in
            XCTAssertEqual(error as? InstructionDataError, .unreadableFile(file: empty, reason: "the file holds no examples"))
        }
        let missing = dir.appendingPathComponent("missing.jsonl").path
        XCTAssertThrowsError(try InstructionFileReader.read(path: missing)) { error in
            guard case .unreadableFile(let f, _)? = error as? InstructionDataError else { return XCTFail("\(error)") }
            XCTAssertEqual(f, missing)
        }
    }

    func testDataSpecParsing() throws {
        XCTAssertEqual(try InstructionDataSpec(parsing: "data/fpb.jsonl"), try InstructionDataSpec(path: "data/fpb.jsonl", weight: 1))
        XCTAssertEqual(try InstructionDataSpec(parsing: "data/fiqa.jsonl:21"), try InstructionDataSpec(path: "data/fiqa.jsonl", weight: 21))
        XCTAssertEqual(try InstructionDataSpec(parsing: "we:ird.jsonl:2"), try InstructionDataSpec(path: "we:ird.jsonl", weight: 2))
        XCTAssertEqual(try InstructionDataSpec(parsing: "a.jsonl:6").description, "a.jsonl:6")
        XCTAssertEqual(try InstructionDataSpec(parsing: "a.jsonl").description, "a.jsonl")
        for bad in ["a.jsonl:", "a.jsonl:0", "a.jsonl:-2", "a.jsonl:1.5", "a.jsonl:x", ":3", "", "a.jsonl:99999", "a.jsonl:+3"] {
            XCTAssertThrowsError(try InstructionDataSpec(parsing: bad), bad) { error in
                guard case .invalidSpec? = error as? InstructionDataError else { return XCTFail("\(bad): \(error)") }
            }
        }
    }
}
