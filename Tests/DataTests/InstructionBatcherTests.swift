import Foundation
import XCTest
@testable import Data

final class InstructionBatcherTests: XCTestCase {
    /// Row i: prompt [1000 + i] followed by (i * 7 % 45) filler tokens, answer of 1 + i % 3 tokens;
    /// its first input token identifies it.
    func makeMix(rows: Int = 203, weights: [Int] = [1]) throws -> InstructionMix {
        let per = rows / weights.count
        var files: [(examples: [TokenizedInstruction], weight: Int)] = []
        for (f, w) in weights.enumerated() {
            let ex = (f * per..<(f + 1) * per).map { i in
                TokenizedInstruction(prompt: [Int32(1000 + i)] + Array(repeating: 5, count: i * 7 % 45),
                                     answer: Array(repeating: 7, count: 1 + i % 3), file: "f\(f)", line: i)
            }
            files.append((ex, w))
        }
        return try InstructionMix(files: files)
    }

    func rowIDs(_ b: InstructionBatch) -> [Int] { (0..<b.examples).map { Int(b.inputs[$0 * b.seq]) - 1000 } }

    func testEveryExampleOncePerEpochWithRepeatsAndShapeBounds() throws {
        let mix = try makeMix(rows: 202, weights: [3, 1])
        XCTAssertEqual(mix.epochSize, 101 * 3 + 101)
        let b = try InstructionBatcher(mix: mix, batchSize: 4, maxSequenceLength: 50, seed: 9, lengthMultiple: 8, windowBatches: 5)
        XCTAssertEqual(b.batchesPerEpoch, (404 + 3) / 4)
        for epoch in 0..<2 {
            var counts = [Int: Int]()
            var partial = 0
            for _ in 0..<b.batchesPerEpoch {
                let batch = b.next()
                XCTAssertEqual(batch.batch, 4)
                XCTAssertEqual(batch.inputs.count, 4 * batch.seq)
                XCTAssertEqual(batch.targets.count, 4 * batch.seq)
                if batch.examples < 4 { partial += 1 }
                let ids = rowIDs(batch)
                let longest = ids.map { mix.examples[$0].inputLength }.max()!
                XCTAssertTrue(batch.seq == 50 || batch.seq % 8 == 0, "T=\(batch.seq)")
                XCTAssertGreaterThanOrEqual(batch.seq, longest)
                XCTAssertLessThan(batch.seq, longest + 8)
                for (r, id) in ids.enumerated() {
                    counts[id, default: 0] += 1
                    let row = mix.examples[id]
                    let n = row.inputLength
                    XCTAssertEqual(Array(batch.inputs[(r * batch.seq)..<(r * batch.seq + n)]), Array(row.tokens.dropLast()))
                    XCTAssertEqual(Array(batch.targets[(r * batch.seq)..<(r * batch.seq + n)]),
                                   Array(repeating: -1, count: row.promptCount - 1) + Array(row.answerTokens))
                    XCTAssertTrue(batch.targets[(r * batch.seq + n)..<((r + 1) * batch.seq)].allSatisfy { $0 == -1 })
                }
                for r in batch.examples..<4 {
                    XCTAssertTrue(batch.targets[(r * batch.seq)..<((r + 1) * batch.seq)].allSatisfy { $0 == -1 })
                }
                XCTAssertEqual(batch.answerTokens, ids.map { mix.examples[$0].answerCount }.reduce(0, +))
                XCTAssertEqual(batch.targets.filter { $0 >= 0 }.count, batch.answerTokens)
            }
            XCTAssertEqual(partial, 0, "404 examples fill 101 batches of 4 exactly")
            XCTAssertEqual(counts.count, 202, "epoch \(epoch)")
            XCTAssertEqual(counts.filter { $0.key < 101 }.values.allSatisfy { $0 == 3 }, true)
            XCTAssertEqual(counts.filter { $0.key >= 101 }.values.allSatisfy { $0 == 1 }, true)
        }
        XCTAssertEqual(b.state.epoch, 1)
        XCTAssertEqual(b.state.batchesDrawn, 2 * b.batchesPerEpoch)
    }

    func testPartialLastBatchIsFilledWithPaddingRows() throws {
        let mix = try makeMix(rows: 10)
        let b = try InstructionBatcher(mix: mix, batchSize: 4, maxSequenceLength: 64, seed: 1)
        let batches = (0..<b.batchesPerEpoch).map { _ in b.next() }
        XCTAssertEqual(batches.map(\.examples).sorted(), [2, 4, 4])
        XCTAssertEqual(Set(batches.flatMap(rowIDs)), Set(0..<10))
    }

    func testBucketingCutsPaddingAndLimitsShapes() throws {
        let mix = try makeMix(rows: 2000)
        func waste(_ window: Int) throws -> (Double, Int) {
            let b = try InstructionBatcher(mix: mix, batchSize: 4, maxSequenceLength: 64, seed: 3, windowBatches: window)
            var real = 0, total = 0
            var shapes = Set<Int>()
            for _ in 0..<b.batchesPerEpoch {
                let x = b.next()
                real += x.realTokens; total += x.batch * x.seq; shapes.insert(x.seq)
            }
            XCTAssertEqual(real, mix.examples.map(\.inputLength).reduce(0, +))
            return (1 - Double(real) / Double(total), shapes.count)
        }
        let (bucketed, shapes) = try waste(50)
        let (plain, _) = try waste(1)
        XCTAssertLessThan(bucketed, plain / 2, "bucketed \(bucketed) vs unbucketed \(plain)")
        XCTAssertLessThanOrEqual(shapes, 64 / 8)
    }

    func testSameSeedSameBatchesOtherSeedOtherBatchesEpochsDiffer() throws {
        let mix = try makeMix()
        let a = try InstructionBatcher(mix: mix, batchSize: 4, maxSequenceLength: 64, seed: 42, windowBatches: 3)
        let b = try InstructionBatcher(mix: mix, batchSize: 4, maxSequenceLength: 64, seed: 42, windowBatches: 3)
        let c = try InstructionBatcher(mix: mix, batchSize: 4, maxSequenceLength: 64, seed: 43, windowBatches: 3)
        let n = a.batchesPerEpoch
        let x = (0..<(2 * n)).map { _ in a.next() }
        XCTAssertEqual(x, (0..<(2 * n)).map { _ in b.next() })
        XCTAssertNotEqual(x, (0..<(2 * n)).map { _ in c.next() })
        XCTAssertNotEqual(x[0..<n].map(rowIDs), x[n...].map(rowIDs), "each epoch is reshuffled")
    }

    func testRestoredBatcherYieldsTheSameBatches() throws {
        let mix = try makeMix(rows: 61)
        let make = { try InstructionBatcher(mix: mix, batchSize: 4, maxSequenceLength: 64, seed: 7, windowBatches: 2, padID: 3) }
        let original = try make()
        let n = original.batchesPerEpoch   // 16 (the last partial)
        for stop in [0, 5, n - 1, n, n + 3, 3 * n] {
            let reference = try make()
            for _ in 0..<stop { _ = reference.next() }
            let saved = try reference.saveState()
            let expected = (0..<(2 * n + 1)).map { _ in reference.next() }
            let resumed = try make()
            _ = resumed.next()   // a different position, overwritten by restore
            try resumed.restoreState(saved)
            for (i, want) in expected.enumerated() where resumed.next() != want {
                XCTFail("resumed after \(stop) batches: batch \(i) differs")
                break
            }
            XCTAssertEqual(resumed.state, reference.state)
        }
        // A state survives a JSON round trip unchanged.
        let s = original.state
        XCTAssertEqual(try JSONDecoder().decode(InstructionBatcher.State.self, from: original.saveState()), s)
    }

    func testRestoreRefusesOtherSettingsOrData() throws {
        let mix = try makeMix()
        let a = try InstructionBatcher(mix: mix, batchSize: 4, maxSequenceLength: 64, seed: 7)
        let saved = try a.saveState()
        let otherBatch = try InstructionBatcher(mix: mix, batchSize: 8, maxSequenceLength: 64, seed: 7)
        XCTAssertThrowsError(try otherBatch.restoreState(saved))
        let otherData = try InstructionBatcher(mix: makeMix(rows: 204), batchSize: 4, maxSequenceLength: 64, seed: 7)
        XCTAssertThrowsError(try otherData.restoreState(saved)) { error in
            guard case .stateMismatch(let m)? = error as? InstructionDataError else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("different data"), m)
        }
        XCTAssertThrowsError(try a.restoreState(Data("{\"epoch\": 1}".utf8)))
        var bad = a.state
        bad.batchInEpoch = a.batchesPerEpoch + 1
        XCTAssertThrowsError(try a.restore(bad))
    }

    func testInvalidSettingsAndTooLongRowsAreRefused() throws {
        let mix = try makeMix()
        XCTAssertThrowsError(try InstructionBatcher(mix: mix, batchSize: 0, maxSequenceLength: 64, seed: 1))
        XCTAssertThrowsError(try InstructionBatcher(mix: mix, batchSize: 2, maxSequenceLength: 64, seed: 1, lengthMultiple: 0))
        XCTAssertThrowsError(try InstructionBatcher(mix: mix, batchSize: 2, maxSequenceLength: 64, seed: 1, windowBatches: 0))
        // The longest row has 1 + 44 + 3 - 1 = 47 input positions.
        XCTAssertEqual(mix.examples.map(\.inputLength).max(), 47)
        XCTAssertThrowsError(try InstructionBatcher(mix: mix, batchSize: 2, maxSequenceLength: 46, seed: 1))
        XCTAssertNoThrow(try InstructionBatcher(mix: mix, batchSize: 2, maxSequenceLength: 47, seed: 1))
    }

    func testFixedBatchesAreSortedCompleteAndRepeatable() throws {
        let rows = try makeMix(rows: 30).examples
        let batches = try InstructionBatcher.fixedBatches(rows, batchSize: 4, maxSequenceLength: 48, padID: 0)
        XCTAssertEqual(batches, try InstructionBatcher.fixedBatches(rows, batchSize: 4, maxSequenceLength: 48, padID: 0))
        XCTAssertEqual(batches.count, 8)
        let ids = batches.flatMap(rowIDs)
        XCTAssertEqual(ids.sorted(), Array(0..<30))
        let lengths = ids.map { rows[$0].inputLength }
        XCTAssertEqual(lengths, lengths.sorted())
        XCTAssertTrue(batches.allSatisfy { $0.seq == 48 || $0.seq % 8 == 0 })
    }
}
