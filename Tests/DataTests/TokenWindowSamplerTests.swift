import Foundation
import XCTest
import Tensor
import TestSupport
@testable import Data

final class TokenWindowSamplerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try FixturePaths.makeTemporaryDirectory("sampler") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Shard A holds 0..<1000, shard B 10000..<10300: any window is a run of consecutive values.
    func makeShards() throws -> [TokenShard] {
        let a = dir.appendingPathComponent("a.bin").path, b = dir.appendingPathComponent("b.bin").path
        try TokenShardWriter.write(Array(0..<1000), to: a, format: .uint16)
        try TokenShardWriter.write(Array(10000..<10300), to: b, format: .uint32)
        return [try TokenShard(path: a), try TokenShard(path: b)]
    }

    func testWindowsAreContiguousShiftedAndWithinOneShard() throws {
        let s = try TokenWindowSampler(shards: makeShards(), batchSize: 4, sequenceLength: 16, seed: 1)
        XCTAssertEqual(s.windowCount, (1000 - 16) + (300 - 16))
        var seenB = false
        for _ in 0..<200 {
            let batch = s.nextBatch()
            XCTAssertEqual(batch.windows.count, 4 * 17)
            XCTAssertEqual(batch.inputs.count, 4 * 16)
            for b in 0..<4 {
                let w = Array(batch.window(b))
                XCTAssertEqual(w, Array(w[0]..<(w[0] + 17)), "window must be consecutive tokens of one shard")
                XCTAssertTrue((0...983).contains(w[0]) || (10000...10283).contains(w[0]))
                if w[0] >= 10000 { seenB = true }
                XCTAssertEqual(Array(batch.inputs[(b * 16)..<(b * 16 + 16)]), Array(w[0..<16]))
                XCTAssertEqual(Array(batch.targets[(b * 16)..<(b * 16 + 16)]), Array(w[1...16]))
            }
        }
        XCTAssertTrue(seenB)
        XCTAssertEqual(s.state.batchesDrawn, 200)
        XCTAssertEqual(s.state.tokensDrawn, 200 * 4 * 17)
    }

    func testEveryStartPositionIsReachable() throws {
        let p = dir.appendingPathComponent("small.bin").path
        try TokenShardWriter.write(Array(0..<40), to: p, format: .uint16)
        let s = try TokenWindowSampler(shardPaths: [p], batchSize: 8, sequenceLength: 7, seed: 3)
        var starts = Set<Int32>()
        for _ in 0..<200 { let b = s.nextBatch(); for r in 0..<8 { starts.insert(b.window(r).first!) } }
        XCTAssertEqual(starts, Set(0...32))
    }

    func testSameSeedSameBatchesDifferentSeedDifferentBatches() throws {
        let shards = try makeShards()
        let a = try TokenWindowSampler(shards: shards, batchSize: 2, sequenceLength: 8, seed: 42)
        let b = try TokenWindowSampler(shards: shards, batchSize: 2, sequenceLength: 8, seed: 42)
        let c = try TokenWindowSampler(shards: shards, batchSize: 2, sequenceLength: 8, seed: 43)
        let x = (0..<5).map { _ in a.nextBatch() }
        XCTAssertEqual(x, (0..<5).map { _ in b.nextBatch() })
        XCTAssertNotEqual(x, (0..<5).map { _ in c.nextBatch() })
    }

    func testSavedStateResumesExactly() throws {
        let shards = try makeShards()
        let uninterrupted = try TokenWindowSampler(shards: shards, batchSize: 3, sequenceLength: 12, seed: 7)
        let reference = (0..<10).map { _ in uninterrupted.nextBatch() }

        let first = try TokenWindowSampler(shards: shards, batchSize: 3, sequenceLength: 12, seed: 7)
        for _ in 0..<4 { _ = first.nextBatch() }
        let json = try JSONEncoder().encode(first.state)   // as a checkpoint would store it
        let restoredState = try JSONDecoder().decode(TokenWindowSampler.State.self, from: json)
        XCTAssertEqual(restoredState, first.state)

        let resumed = try TokenWindowSampler(shards: shards, batchSize: 3, sequenceLength: 12, seed: 999)
        try resumed.restore(restoredState)
        XCTAssertEqual((4..<10).map { _ in resumed.nextBatch() }, Array(reference[4..<10]))
        XCTAssertEqual(resumed.state, uninterrupted.state)

        let otherShape = try TokenWindowSampler(shards: shards, batchSize: 2, sequenceLength: 12, seed: 7)
        XCTAssertThrowsError(try otherShape.restore(restoredState)) { e in
            guard case DataError.stateMismatch = e else { return XCTFail("\(e)") }
        }
        let otherData = try TokenWindowSampler(shards: [shards[0]], batchSize: 3, sequenceLength: 12, seed: 7)
        XCTAssertThrowsError(try otherData.restore(restoredState))
    }

    func testArgumentErrors() throws {
        let shards = try makeShards()
        XCTAssertThrowsError(try TokenWindowSampler(shards: shards, batchSize: 1, sequenceLength: 300, seed: 0)) { e in
            XCTAssertEqual(e as? DataError, .shardTooShort(file: shards[1].path, tokens: 300, needed: 301))
            XCTAssertTrue("\(e)".contains("b.bin"))
        }
        XCTAssertThrowsError(try TokenWindowSampler(shards: shards, batchSize: 1, sequenceLength: 256, seed: 0, maxSequenceLength: 128)) { e in
            XCTAssertEqual(e as? DataError, .sequenceTooLong(requested: 256, limit: 128))
        }
        XCTAssertThrowsError(try TokenWindowSampler(shards: shards, batchSize: 0, sequenceLength: 8, seed: 0))
        XCTAssertThrowsError(try TokenWindowSampler(shards: [], batchSize: 1, sequenceLength: 8, seed: 0))
    }

    func testValidationWalkIsSequentialDeterministicAndResettable() throws {
        let shards = try makeShards()
        let s = try TokenWindowSampler(shards: shards, batchSize: 2, sequenceLength: 10, seed: 5)
        let before = s.state
        let batches = try s.validationBatches(batch: 2, seq: 10)
        XCTAssertEqual(s.state, before, "validation must not touch the random state")
        // Shard A: (1000 - 1) / 20 = 49 batches; shard B: (300 - 1) / 20 = 14 batches.
        XCTAssertEqual(batches.count, 49 + 14)
        for (k, batch) in batches.enumerated() {
            let base: Int32 = k < 49 ? Int32(k * 20) : Int32(10000 + (k - 49) * 20)
            XCTAssertEqual(Array(batch.window(0)), Array(base...(base + 10)))
            XCTAssertEqual(Array(batch.window(1)), Array((base + 10)...(base + 20)))
        }
        XCTAssertEqual(try s.validationBatches(batch: 2, seq: 10), batches)
        XCTAssertEqual(try s.validationBatches(batch: 2, seq: 10, maxBatches: 3), Array(batches.prefix(3)))

        var loader = try SequentialTokenLoader(shards: shards, batchSize: 2, sequenceLength: 10)
        XCTAssertEqual(loader.batchesPerPass, 63)
        let first = (0..<5).compactMap { _ in loader.next() }
        XCTAssertEqual(loader.position, .init(shard: 0, offset: 100))
        loader.reset()
        XCTAssertEqual((0..<5).compactMap { _ in loader.next() }, first)
        XCTAssertThrowsError(try SequentialTokenLoader(shards: shards, batchSize: 100, sequenceLength: 10)) { e in
            XCTAssertEqual(e as? DataError, .shardTooShort(file: shards[0].path, tokens: 1000, needed: 1001))
        }
    }
}
