import Foundation
import XCTest
import TestSupport
import Tokenizers
@testable import Data

/// Instruction data on the real FinGPT sentiment files with the SmolLM2 tokenizer; skips when the
/// model or the shared data are absent.
final class InstructionRealDataTests: XCTestCase {
    func inputs() throws -> (BPETokenizer, [InstructionDataSpec]) {
        guard let model = FixturePaths.smolLM2Model else { throw XCTSkip("SmolLM2 GGUF not found (run `make setup` or set FINGPT_MODEL)") }
        guard let data = FixturePaths.sharedData else { throw XCTSkip("shared data not found (set FINGPT_DATA)") }
        let dir = (data as NSString).appendingPathComponent("sentiment")
        let files = [("fpb_train.jsonl", 6), ("fiqa_train.jsonl", 21), ("tfns_train.jsonl", 2)]
        guard files.allSatisfy({ FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent($0.0)) }) else {
            throw XCTSkip("sentiment files not found in \(dir)")
        }
        return (try BPETokenizer(ggufPath: model),
                try files.map { try InstructionDataSpec(path: (dir as NSString).appendingPathComponent($0.0), weight: $0.1) })
    }

    func testFinGPTMixTokenizesRoundTripsAndBucketingSavesPadding() throws {
        let (tokenizer, specs) = try inputs()
        let maxSeq = 256
        let encoder = try InstructionEncoder(tokenizer: tokenizer, template: .fingpt, maxSequenceLength: maxSeq)
        let corpus = try InstructionCorpus.load(specs: specs, encoder: encoder, devFraction: 0.05, splitSeed: 1)
        XCTAssertEqual(corpus.files.map(\.rows), [3634, 938, 9543])
        let train = corpus.files.map(\.trainRows)
        XCTAssertEqual(corpus.train.epochSize, train[0] * 6 + train[1] * 21 + train[2] * 2)

        // Every row decodes back to the FinGPT text followed by the eos token (<|im_end|> for SmolLM2).
        XCTAssertEqual(tokenizer.eosID, 2)
        let rows = try specs.flatMap { try InstructionFileReader.read(path: $0.path) }
        let byLocation = Dictionary(rows.map { ("\($0.file):\($0.line)", $0) }, uniquingKeysWith: { a, _ in a })
        for x in corpus.train.examples.prefix(1000) where x.droppedPromptTokens == 0 {
            let row = try XCTUnwrap(byLocation["\(x.file):\(x.line)"])
            XCTAssertEqual(tokenizer.decode(Array(x.promptTokens)), PromptTemplate.fingpt.prompt(for: row).rendered())
            XCTAssertEqual(Array(x.answerTokens), tokenizer.encode(row.answer, allowSpecial: false) + [2])
        }

        func epochWaste(window: Int) throws -> (waste: Double, shapes: Int, batches: Int) {
            let b = try InstructionBatcher(mix: corpus.train, batchSize: 4, maxSequenceLength: maxSeq, seed: 1,
                                           windowBatches: window, padID: encoder.suggestedPadID)
            var real = 0, total = 0
            var shapes = Set<Int>()
            for _ in 0..<b.batchesPerEpoch {
                let x = b.next()
                real += x.realTokens; total += x.batch * x.seq; shapes.insert(x.seq)
            }
            return (1 - Double(real) / Double(total), shapes.count, b.batchesPerEpoch)
        }
        let bucketed = try epochWaste(window: 50)
        let plain = try epochWaste(window: 1)
        let lengths = corpus.train.examples.map(\.inputLength)
        print(String(format: "instruction data: %d train rows (epoch %d), %d dev rows, input length %d..%d mean %.1f; B=4 padding waste: bucketed(50 batches) %.2f%% over %d shapes, unbucketed %.2f%% over %d shapes, %d batches/epoch",
                     corpus.train.examples.count, corpus.train.epochSize, corpus.dev.count, lengths.min()!, lengths.max()!,
                     Double(lengths.reduce(0, +)) / Double(lengths.count),
                     100 * bucketed.waste, bucketed.shapes, 100 * plain.waste, plain.shapes, bucketed.batches))
        XCTAssertLessThan(bucketed.waste, plain.waste)
    }

    func testChatMLUsesTheSpecialTokenIds() throws {
        let (tokenizer, specs) = try inputs()
        let row = try XCTUnwrap(InstructionFileReader.read(path: specs[0].path).first)
        let encoder = try InstructionEncoder(tokenizer: tokenizer, template: .chatML(system: "You are a financial analyst."), maxSequenceLength: 512)
        let x = try encoder.encode(row)
        XCTAssertEqual(tokenizer.tokenToPiece(1), "<|im_start|>")
        XCTAssertEqual(tokenizer.tokenToPiece(2), "<|im_end|>")
        XCTAssertEqual(x.tokens.filter { $0 == 1 }.count, 3)
        XCTAssertEqual(x.tokens.filter { $0 == 2 }.count, 3)
        XCTAssertEqual(x.tokens.first, 1)
        XCTAssertEqual(x.tokens.last, 2)
        // Same ids as encoding the rendered ChatML string with special tokens on (what chat does).
        let rendered = PromptTemplate.chatML(system: "You are a financial analyst.").prompt(for: row).rendered()
        XCTAssertEqual(Array(x.promptTokens), tokenizer.encode(rendered, allowSpecial: true, addBOS: false))
        XCTAssertEqual(Array(x.answerTokens), tokenizer.encode(row.answer + "<|im_end|>", allowSpecial: true, addBOS: false))
    }
}
