import Foundation
import Quantization
import Tensor
import TestSupport
import XCTest
@testable import Models

/// The batched runners (`LlamaBatchRunner`, `GPT2BatchRunner`) against their single-sequence
/// runners fed each sequence alone: same logits per sequence, for sequences of different lengths
/// in one pass, with and without a copied shared prefix, in chunks, on float and quantized weights.
final class LlamaBatchRunnerTests: XCTestCase {
    // widths multiples of 32 so that quantized weights take the integer kernels
    let cfg = LlamaConfig(vocabSize: 45, hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2,
                          contextLength: 128, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: false)

    func randomModel(seed: UInt64) throws -> LlamaModel {
        let model = try LlamaModel(config: cfg, seed: seed)
        var rng = RandomGenerator(seed: seed + 1)
        for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: 0.3) }
        return model
    }

    /// One call of a scenario: per sequence, the tokens it gets and whether all their logits are wanted.
    typealias Call = [(sequence: Int, tokens: [Int32], allLogits: Bool)]

    /// Sequence 3 computes a shared prefix that sequences 0 and 1 copy; sequence 2 starts empty.
    /// Then one pass mixes long inputs (prompt arithmetic) with a short one (vector arithmetic),
    /// then one-token steps, then a long input in chunks next to a one-token step.
    func scenario(seed: UInt64) -> (prefix: [Int32], calls: [Call]) {
        var rng = RandomGenerator(seed: seed)
        let random = { (n: Int) in (0..<n).map { _ in Int32(rng.nextInt(below: 45)) } }
        var calls: [Call] = [[(0, random(20), true), (1, random(3), false), (2, random(30), false)]]
        for _ in 0..<4 { calls.append([(0, random(1), false), (1, random(1), false), (2, random(1), true)]) }
        calls.append([(1, random(1), false), (0, random(40), true)])
        calls.append([(2, random(5), true), (0, random(2), false)])
        return (random(11), calls)
    }

    /// Runs `scenario` through `batched` (4 sequences) and each sequence alone through a fresh
    /// runner from `single`, comparing every call's logits: all within `rtol`/`atol`, and with
    /// `closeShare`, at least that share of the logit rows entirely within 1e-4.
    func assertBatchedMatchesSingle(_ batched: BatchedLanguageModel, single: () throws -> CausalLanguageModel, seed: UInt64,
                                    rtol: Float, atol: Float, closeShare: Double? = nil, _ label: String) throws {
        var close = 0, total = 0
        let (prefix, calls) = scenario(seed: seed)
        _ = try batched.forward([SequenceFeed(sequence: 3, tokens: prefix)])
        try batched.copyCache(from: 3, to: 0, count: prefix.count)
        try batched.copyCache(from: 3, to: 1, count: 7)  // part of the prefix
        let references = try (0..<3).map { _ in try single() }
        _ = try references[0].forward(prefix, allLogits: false)
        _ = try references[1].forward(prefix, allLogits: false)  // the prefix positions computed as the batch computed them
        try references[1].truncate(to: 7)
        XCTAssertEqual((0..<4).map(batched.position), [11, 7, 0, 11])
        for (c, call) in calls.enumerated() {
            let got = try batched.forward(call.map { SequenceFeed(sequence: $0.sequence, tokens: $0.tokens, allLogits: $0.allLogits) })
            XCTAssertEqual(got.count, call.count)
            for (feed, logits) in zip(call, got) {
                let want = try references[feed.sequence].forward(feed.tokens, allLogits: feed.allLogits)
                XCTAssertEqual(logits.count, want.count, "\(label) call \(c) sequence \(feed.sequence)")
                assertAllClose(logits, want, rtol: rtol, atol: atol, "\(label) call \(c) sequence \(feed.sequence)")
                let v = batched.vocabularySize
                for r in 0..<(want.count / v) where (r * v..<(r + 1) * v).allSatisfy({ abs(logits[$0] - want[$0]) <= 1e-4 * (1 + abs(want[$0])) }) {
                    close += 1
                }
                total += want.count / v
            }
        }
        if let closeShare { XCTAssertGreaterThanOrEqual(Double(close) / Double(total), closeShare, "\(label): share of logits within 1e-4") }
        XCTAssertEqual((0..<3).map(batched.position), references.map(\.position))
    }

    func testFloatBatchMatchesSingleSequenceRunner() throws {
        let model = try randomModel(seed: 3)
        for chunk in [192, 16] {
            let batched = try LlamaBatchRunner(runner: try LlamaRunner(model: model), sequences: 4)
            batched.runner.maxChunk = chunk
            try assertBatchedMatchesSingle(batched, single: {
                let r = try LlamaRunner(model: model)
                r.maxChunk = chunk
                return r
            }, seed: 5, rtol: 1e-4, atol: 1e-4, "float, chunks of \(chunk)")
        }
    }

    /// Each row gets the single runner's arithmetic (8-bit activations for short inputs, float tiles
    /// for long ones), but OpenBLAS rounds a row differently in products of different heights, and
    /// such a difference can move an activation across an 8-bit rounding boundary (a change of one
    /// quantization step, 1/127 of its block's largest value, which this random model's large
    /// weights turn into a few hundredths in a logit). So almost all logit rows agree to 1e-4 and
    /// the rest to 0.1.
    func testQuantizedBatchMatchesSingleSequenceRunner() throws {
        let model = try randomModel(seed: 7)
        for type in [GGMLType.q4_1, .q8_0] {
            let runner = try QuantizedLlamaRunners.make(model, blockType: type)
            runner.maxChunk = 16
            XCTAssertNotNil(runner.decodePlan, "one-token steps of the reference take the decode plan")
            try assertBatchedMatchesSingle(try LlamaBatchRunner(runner: runner, sequences: 4), single: {
                let r = try QuantizedLlamaRunners.make(model, blockType: type)
                r.maxChunk = 16
                return r
            }, seed: 9, rtol: 0.1, atol: 0.1, closeShare: 0.95, "\(type)")
        }
    }

    /// Token by token, the batched steps on quantized weights are the decode plan's bit for bit
    /// (same kernels, same row split over threads, same activation quantization).
    func testQuantizedOneTokenStepsEqualTheDecodePlanExactly() throws {
        let model = try randomModel(seed: 11)
        let runner = try QuantizedLlamaRunners.make(model, blockType: .q4_1)
        let batched = try LlamaBatchRunner(runner: runner, sequences: 3)
        let singles = try (0..<3).map { _ in try QuantizedLlamaRunners.make(model, blockType: .q4_1) }
        var rng = RandomGenerator(seed: 12)
        for step in 0..<12 {
            let tokens = (0..<3).map { _ in Int32(rng.nextInt(below: 45)) }
            let active = step % 4 == 3 ? [0, 2] : [0, 1, 2]  // a sequence may sit a step out
            let got = try batched.forward(active.map { SequenceFeed(sequence: $0, tokens: [tokens[$0]]) })
            for (s, logits) in zip(active, got) {
                XCTAssertEqual(logits, try singles[s].forward([tokens[s]], allLogits: false), "step \(step) sequence \(s)")
            }
        }
    }

    /// With `batchInvariant`, a sequence's logits on quantized weights are bit for bit the same
    /// however its tokens were grouped: in passes with other sequences, in chunks, or one at a time.
    func testBatchInvariantLogitsAreExactlyTheSingleRunners() throws {
        let model = try randomModel(seed: 13)
        for type in [GGMLType.q4_1, .q8_0] {
            func invariantRunner() throws -> LlamaRunner {
                let r = try QuantizedLlamaRunners.make(model, blockType: type)
                r.batchInvariant = true
                r.maxChunk = 16
                return r
            }
            let batched = try LlamaBatchRunner(runner: try invariantRunner(), sequences: 4)
            try assertBatchedMatchesSingle(batched, single: invariantRunner, seed: 9, rtol: 0, atol: 0, closeShare: 1, "\(type) invariant")
            // a prompt at once, in chunks, and token by token
            var rng = RandomGenerator(seed: 14)
            let tokens = (0..<37).map { _ in Int32(rng.nextInt(below: 45)) }
            let whole = try invariantRunner()
            whole.maxChunk = 192
            let reference = try whole.forward(tokens, allLogits: true)
            let chunked = try invariantRunner()
            XCTAssertEqual(try chunked.forward(tokens, allLogits: true), reference, "\(type) in chunks of 16")
            let stepped = try invariantRunner()
            var steps: [Float] = []
            for t in tokens { steps += try stepped.forward([t], allLogits: false) }
            XCTAssertEqual(steps, reference, "\(type) token by token (the decode plan)")
        }
    }

    /// A LoRA adapter on quantized weights (`AdaptedLinearMap`, no decode plan): batched and single
    /// runners agree, exactly when batch-invariant.
    func testAdaptedQuantizedBatchMatchesSingleSequenceRunner() throws {
        let model = try randomModel(seed: 17)
        let lora = try LoRAConfig(rank: 4, alpha: 8, targets: try LoRATarget.parseList("q,k,v,o,gate,up,down"))
        var rng = RandomGenerator(seed: 18)
        let adapter = try LoRAAdapter(config: lora, base: .llama(cfg), rng: &rng)
        for m in adapter.modules { rng.fillNormal(adapter.b(m).buffer, std: 0.2) }
        for invariant in [false, true] {
            func adaptedRunner() throws -> LlamaRunner {
                let r = try QuantizedLlamaRunners.make(model, blockType: .q4_1).adapted(by: adapter)
                r.batchInvariant = invariant
                r.maxChunk = 16
                return r
            }
            let batched = try LlamaBatchRunner(runner: try adaptedRunner(), sequences: 4)
            XCTAssertNil(batched.runner.decodePlan)
            try assertBatchedMatchesSingle(batched, single: adaptedRunner, seed: 19, rtol: invariant ? 0 : 0.1, atol: invariant ? 0 : 0.1,
                                           closeShare: invariant ? 1 : 0.95, "adapted, invariant \(invariant)")
        }
    }

    func testGPT2BatchMatchesSingleSequenceRunner() throws {
        let model = try GPT2Model(config: GPT2Config(vocabSize: 45, contextLength: 128, layers: 2, heads: 2, embeddingSize: 32), seed: 4)
        var rng = RandomGenerator(seed: 6)
        for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: 0.2) }
        let runner = GPT2Runner(model: model)
        let batched = try XCTUnwrap(try runner.makeBatchedModel(sequences: 4) as? GPT2BatchRunner)
        batched.maxChunk = 16
        try assertBatchedMatchesSingle(batched, single: { GPT2Runner(model: model) }, seed: 8, rtol: 1e-4, atol: 1e-4, "gpt-2")
    }

    func testBadInputsThrowClearErrors() throws {
        let runner = try LlamaRunner(model: try randomModel(seed: 1), maxContext: 20)
        XCTAssertThrowsError(try LlamaBatchRunner(runner: runner, sequences: 0)) { XCTAssertTrue("\($0)".contains("at least one sequence"), "\($0)") }
        let batched = try runner.makeBatchedModel(sequences: 2)
        func fails(_ feeds: [SequenceFeed], _ message: String, line: UInt = #line) {
            XCTAssertThrowsError(try batched.forward(feeds), line: line) { XCTAssertTrue("\($0)".contains(message), "\($0)", line: line) }
        }
        fails([], "no sequences")
        fails([SequenceFeed(sequence: 2, tokens: [1])], "outside 0..<2")
        fails([SequenceFeed(sequence: 0, tokens: [1]), SequenceFeed(sequence: 0, tokens: [2])], "fed twice")
        fails([SequenceFeed(sequence: 1, tokens: [])], "no tokens")
        fails([SequenceFeed(sequence: 1, tokens: [45])], "outside the vocabulary")
        fails([SequenceFeed(sequence: 0, tokens: [1]), SequenceFeed(sequence: 1, tokens: Array(repeating: 1, count: 21))], "context full")
        XCTAssertEqual(batched.position(of: 0), 0, "a refused call changes no cache")
        _ = try batched.forward([SequenceFeed(sequence: 0, tokens: [1, 2, 3])])
        XCTAssertThrowsError(try batched.copyCache(from: 0, to: 1, count: 4))
        XCTAssertThrowsError(try batched.copyCache(from: 0, to: 2, count: 1))
        XCTAssertThrowsError(try batched.truncate(sequence: -1, to: 0))
        try batched.copyCache(from: 0, to: 1, count: 2)
        XCTAssertEqual(batched.position(of: 1), 2)
        try batched.truncate(sequence: 0, to: 1)
        XCTAssertEqual(batched.position(of: 0), 1)
    }
}
