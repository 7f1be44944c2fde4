import XCTest
import Tokenizers
@testable import Data

final class InstructionEncoderTests: XCTestCase {
    typealias T = ByteChatTokenizer
    let row = InstructionExample(prompt: .fields(instruction: "Say", input: "hi"), answer: "yes", file: "f.jsonl", line: 7)

    func testFinGPTTokensAreThePromptBytesThenAnswerAndEos() throws {
        let enc = try InstructionEncoder(tokenizer: T.make(), template: .fingpt, maxSequenceLength: 64)
        let x = try enc.encode(row)
        let prompt = T.ids("Instruction: Say\nInput: hi\nAnswer: ")
        XCTAssertEqual(Array(x.promptTokens), prompt)
        XCTAssertEqual(Array(x.answerTokens), T.ids("yes") + [T.eos])
        XCTAssertEqual(x.promptCount, prompt.count)
        XCTAssertEqual(x.answerCount, 4)
        XCTAssertEqual(x.inputLength, prompt.count + 3)
        XCTAssertEqual(x.droppedPromptTokens, 0)
        XCTAssertEqual(x.file, "f.jsonl")
        XCTAssertEqual(x.line, 7)
    }

    func testChatMLMarkersBecomeSpecialIdsButDataTextNeverDoes() throws {
        let enc = try InstructionEncoder(tokenizer: T.make(), template: .chatML(system: "S"), maxSequenceLength: 128)
        let sneaky = InstructionExample(prompt: .fields(instruction: "I<|im_end|>", input: ""), answer: "a<|im_start|>")
        let x = try enc.encode(sneaky)
        let expectedPrompt = [T.imStart] + T.ids("system\nS") + [T.imEnd] + T.ids("\n")
            + [T.imStart] + T.ids("user\nI<|im_end|>") + [T.imEnd] + T.ids("\n") + [T.imStart] + T.ids("assistant\n")
        XCTAssertEqual(Array(x.promptTokens), expectedPrompt)
        XCTAssertEqual(Array(x.answerTokens), T.ids("a<|im_start|>") + [T.imEnd])
    }

    func testChatMLNeedsTheMarkersAsSpecialTokens() throws {
        let plain = try BPETokenizer(tokens: ByteLevelEncoding.byteToScalar.map { String($0) }, merges: [], preTokenizer: .gpt2,
                                     eosID: 0, source: "plain")
        XCTAssertThrowsError(try InstructionEncoder(tokenizer: plain, template: .chatML(), maxSequenceLength: 32)) { error in
            guard case .invalidTemplate(let m)? = error as? InstructionDataError else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("<|im_start|>") && m.contains("plain"), m)
        }
        let noEOS = try BPETokenizer(tokens: ByteLevelEncoding.byteToScalar.map { String($0) }, merges: [], preTokenizer: .gpt2, source: "no-eos")
        XCTAssertThrowsError(try InstructionEncoder(tokenizer: noEOS, template: .fingpt, maxSequenceLength: 32))
    }

    func testBOSIsPrependedWhenTheTokenizerAddsIt() throws {
        let enc = try InstructionEncoder(tokenizer: T.make(addBOS: true), template: .fingpt, maxSequenceLength: 64)
        XCTAssertEqual(Array(try enc.encode(row).promptTokens), [T.imStart] + T.ids("Instruction: Say\nInput: hi\nAnswer: "))
    }

    /// Targets are -1 exactly on prompt and pad positions; answer tokens and eos are scored.
    func testRowMaskingAndShift() throws {
        let enc = try InstructionEncoder(tokenizer: T.make(), template: .fingpt, maxSequenceLength: 64)
        let x = try enc.encode(row)
        let p = x.promptCount, seq = 48
        let batch = InstructionBatch(rows: [x], batch: 2, seq: seq, padID: 99)
        let tokens = x.tokens
        let expectedInputs = Array(tokens.dropLast()) + Array(repeating: Int32(99), count: seq - tokens.count + 1)
            + Array(repeating: Int32(99), count: seq)
        let expectedTargets = Array(repeating: Int32(-1), count: p - 1) + T.ids("yes") + [T.eos]
            + Array(repeating: Int32(-1), count: seq - (p + 3)) + Array(repeating: Int32(-1), count: seq)
        XCTAssertEqual(batch.inputs, expectedInputs)
        XCTAssertEqual(batch.targets, expectedTargets)
        XCTAssertEqual(batch.answerTokens, 4)
        XCTAssertEqual(batch.realTokens, p + 3)
        XCTAssertEqual(batch.examples, 1)
        XCTAssertEqual(batch.targets.filter { $0 >= 0 }.count, batch.answerTokens)
        XCTAssertEqual(batch.paddingFraction, 1 - Double(p + 3) / Double(2 * seq), accuracy: 1e-12)
    }

    /// Prompt tokens are dropped from the middle; the answer is kept whole.
    func testTruncationKeepsAnswerAndBothEndsOfThePrompt() throws {
        let long = InstructionExample(prompt: .text("ABCDEFGHIJKLMNOPQRST"), answer: "xyz", file: "g.jsonl", line: 3)
        let enc = try InstructionEncoder(tokenizer: T.make(), template: .fingpt, maxSequenceLength: 12)
        let x = try enc.encode(long)
        // Budget = 12 + 1 - 4 answer tokens = 9 prompt tokens: the first 4 and the last 5.
        XCTAssertEqual(Array(x.promptTokens), T.ids("ABCD") + T.ids("PQRST"))
        XCTAssertEqual(Array(x.answerTokens), T.ids("xyz") + [T.eos])
        XCTAssertEqual(x.droppedPromptTokens, 11)
        XCTAssertEqual(x.inputLength, 12)
        // A prompt that fits exactly is not cut.
        let fits = try InstructionEncoder(tokenizer: T.make(), template: .fingpt, maxSequenceLength: 23).encode(long)
        XCTAssertEqual(fits.droppedPromptTokens, 0)
        XCTAssertEqual(fits.inputLength, 23)
    }

    func testAnswerLongerThanTheLimitIsAnErrorWithItsLine() throws {
        let enc = try InstructionEncoder(tokenizer: T.make(), template: .fingpt, maxSequenceLength: 4)
        let ok = InstructionExample(prompt: .text("a long prompt"), answer: "abc", file: "h.jsonl", line: 1)
        // Budget 1: only the prompt's last token (the cue right before the answer) is kept.
        XCTAssertEqual(try enc.encode(ok).tokens, T.ids("t") + T.ids("abc") + [T.eos])
        let bad = InstructionExample(prompt: .text("p"), answer: "abcd", file: "h.jsonl", line: 9)
        XCTAssertThrowsError(try enc.encode([ok, bad, ok])) { error in
            XCTAssertEqual(error as? InstructionDataError, .answerTooLong(file: "h.jsonl", line: 9, answerTokens: 5, limit: 4))
        }
    }

    func testParallelEncodingMatchesSerial() throws {
        let enc = try InstructionEncoder(tokenizer: T.make(), template: .chatML(), maxSequenceLength: 256)
        let rows = (0..<50).map { InstructionExample(prompt: .fields(instruction: "Q\($0)", input: String(repeating: "x", count: $0)), answer: "a\($0)") }
        XCTAssertEqual(try enc.encode(rows, threads: 2), try rows.map { try enc.encode($0) })
    }
}
