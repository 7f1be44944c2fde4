import Foundation
import XCTest
import TestSupport
import Tensor
@testable import Data

final class InstructionCorpusTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try FixturePaths.makeTemporaryDirectory("instr-corpus") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func rows(_ prefix: String, _ n: Int) -> [InstructionExample] {
        (0..<n).map { InstructionExample(prompt: .fields(instruction: "Classify", input: "\(prefix) row \($0)"), answer: $0 % 3 == 0 ? "positive" : "neutral") }
    }

    func write(_ name: String, _ examples: [InstructionExample]) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let lines = try examples.map { e -> String in
            guard case .fields(let i, let x) = e.prompt else { throw XCTSkip("fields only") }
            let d = try JSONSerialization.data(withJSONObject: ["instruction": i, "input": x, "output": e.answer], options: [.sortedKeys])
            return String(decoding: d, as: UTF8.self)
        }
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func inputText(_ e: InstructionExample) -> String {
        if case .fields(_, let x) = e.prompt { return x } else { return "" }
    }

    func testSplitIsDisjointCompleteStableAndOrderIndependent() throws {
        let all = rows("a", 2000)
        let (train, dev) = try InstructionSplit.split(all, fraction: 0.2, seed: 11)
        XCTAssertEqual(train.count + dev.count, all.count)
        XCTAssertTrue(Set(train.map(inputText)).isDisjoint(with: Set(dev.map(inputText))))
        // Binomial(2000, 0.2): mean 400, sd 17.9; 5 sd either side.
        XCTAssertEqual(Double(dev.count), 400, accuracy: 90)
        // Same seed: same rows held out, also when the file is reordered or rows are appended.
        var rng = RandomGenerator(seed: 5)
        var shuffled = all
        InstructionBatcher.shuffle(&shuffled, &rng)
        let again = try InstructionSplit.split(shuffled + rows("b", 100), fraction: 0.2, seed: 11).dev
        XCTAssertTrue(Set(dev.map(inputText)).isSubset(of: Set(again.map(inputText))))
        XCTAssertEqual(Set(dev.map(inputText)), Set(again.map(inputText)).filter { $0.hasPrefix("a ") })
        // Another seed holds out other rows.
        let other = try InstructionSplit.split(all, fraction: 0.2, seed: 12).dev
        XCTAssertNotEqual(Set(dev.map(inputText)), Set(other.map(inputText)))
        // Duplicates go to the same side.
        let dup = all[0]
        XCTAssertEqual(InstructionSplit.isHeldOut(dup, fraction: 0.5, seed: 3),
                       InstructionSplit.isHeldOut(InstructionExample(prompt: dup.prompt, answer: dup.answer, file: "elsewhere", line: 99), fraction: 0.5, seed: 3))
        XCTAssertThrowsError(try InstructionSplit.split(all, fraction: 1, seed: 0))
        XCTAssertEqual(try InstructionSplit.split(all, fraction: 0, seed: 0).dev.count, 0)
    }

    func testContentHashIsAFixedFunction() {
        // Pinned values: the split must not change between runs, machines or Swift versions.
        let e = InstructionExample(prompt: .fields(instruction: "i", input: "x"), answer: "o")
        XCTAssertEqual(e.contentHash(seed: 0), e.contentHash(seed: 0))
        XCTAssertNotEqual(e.contentHash(seed: 0), e.contentHash(seed: 1))
        // The two forms with the same text hash differently (the form is part of the content).
        XCTAssertNotEqual(InstructionExample(prompt: .text("ix"), answer: "o").contentHash(seed: 0), e.contentHash(seed: 0))
        // Length prefixes: moving text between fields changes the hash.
        XCTAssertNotEqual(InstructionExample(prompt: .fields(instruction: "ix", input: ""), answer: "o").contentHash(seed: 0), e.contentHash(seed: 0))
        XCTAssertEqual(e.contentHash(seed: 0), Self.referenceHash([1], ["i", "x", "o"], seed: 0))
    }

    /// The documented hash written out independently: FNV-1a 64 over a form tag and
    /// length-prefixed (8-byte little endian) UTF-8 fields, then a SplitMix64 finish.
    static func referenceHash(_ tag: [UInt8], _ fields: [String], seed: UInt64) -> UInt64 {
        var bytes = tag
        for f in fields {
            let n = UInt64(f.utf8.count)
            bytes += (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) }
            bytes += Array(f.utf8)
        }
        var h: UInt64 = 14695981039346656037 ^ seed
        for b in bytes { h ^= UInt64(b); h = h &* 1099511628211 }
        var z = h &+ 0x9E3779B97F4A7C15
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }

    func testCorpusLoadsSplitsAndWeighsFiles() throws {
        let a = try write("a.jsonl", rows("a", 300)), b = try write("b.jsonl", rows("b", 40))
        let enc = try InstructionEncoder(tokenizer: ByteChatTokenizer.make(), template: .fingpt, maxSequenceLength: 128)
        let corpus = try InstructionCorpus.load(specs: [InstructionDataSpec(parsing: a + ":6"), InstructionDataSpec(parsing: b + ":21")],
                                                encoder: enc, devFraction: 0.1, splitSeed: 4)
        XCTAssertEqual(corpus.files.map(\.path), [a, b])
        XCTAssertEqual(corpus.files.map(\.weight), [6, 21])
        XCTAssertEqual(corpus.files.map(\.rows), [300, 40])
        let expectedDevA = try InstructionSplit.split(rows("a", 300), fraction: 0.1, seed: 4).dev.count
        let expectedDevB = try InstructionSplit.split(rows("b", 40), fraction: 0.1, seed: 4).dev.count
        XCTAssertEqual(corpus.files.map(\.devRows), [expectedDevA, expectedDevB])
        XCTAssertEqual(corpus.dev.count, expectedDevA + expectedDevB)
        XCTAssertEqual(corpus.train.examples.count, 340 - expectedDevA - expectedDevB)
        XCTAssertEqual(corpus.train.epochSize, (300 - expectedDevA) * 6 + (40 - expectedDevB) * 21)
        // Rows keep their file and line; dev rows are not in train.
        XCTAssertTrue(corpus.train.examples.allSatisfy { $0.file == a || $0.file == b })
        let trainLines = Set(corpus.train.examples.map { "\($0.file):\($0.line)" })
        XCTAssertTrue(corpus.dev.allSatisfy { !trainLines.contains("\($0.file):\($0.line)") })
        // Each file's rows appear weight times in one epoch of the batcher.
        let batcher = try InstructionBatcher(mix: corpus.train, batchSize: 8, maxSequenceLength: 128, seed: 1)
        var perFile: [String: Int] = [:]
        var perRow: [String: Int] = [:]
        for _ in 0..<batcher.batchesPerEpoch {
            let batch = batcher.next()
            for r in 0..<batch.examples {
                let key = Self.rowKey(batch, r)
                perRow[key, default: 0] += 1
                perFile[key.hasPrefix("a ") ? a : b, default: 0] += 1
            }
        }
        XCTAssertEqual(perFile[a], (300 - expectedDevA) * 6)
        XCTAssertEqual(perFile[b], (40 - expectedDevB) * 21)
        XCTAssertEqual(Set(perRow.filter { $0.key.hasPrefix("a ") }.values), [6])
        XCTAssertEqual(Set(perRow.filter { $0.key.hasPrefix("b ") }.values), [21])
    }

    /// The input text of row `r` of a batch built from the byte tokenizer ("x row N").
    static func rowKey(_ batch: InstructionBatch, _ r: Int) -> String {
        let ids = batch.inputs[(r * batch.seq)..<((r + 1) * batch.seq)]
        let text = String(decoding: ids.prefix { $0 < 256 }.map { UInt8($0) }, as: UTF8.self)
        let start = text.range(of: "Input: ")!.upperBound
        return String(text[start...].prefix { $0 != "\n" })
    }

    func testCorpusErrorsNameTheFile() throws {
        let good = try write("good.jsonl", rows("g", 3))
        let badPath = dir.appendingPathComponent("bad.jsonl").path
        try Data("{\"instruction\":\"i\",\"input\":\"x\",\"output\":\"o\"}\n{\"instruction\":\"i\"}\n".utf8).write(to: URL(fileURLWithPath: badPath))
        let enc = try InstructionEncoder(tokenizer: ByteChatTokenizer.make(), template: .fingpt, maxSequenceLength: 128)
        XCTAssertThrowsError(try InstructionCorpus.load(specs: [InstructionDataSpec(path: good), InstructionDataSpec(path: badPath)], encoder: enc)) { error in
            XCTAssertEqual(error as? InstructionDataError, .malformedLine(file: badPath, line: 2, reason: "missing required field \"output\""))
        }
        XCTAssertThrowsError(try InstructionCorpus.load(specs: [], encoder: enc))
    }
}
