import XCTest

/// Two-process (and four-process) runs of the self-test under mpirun, checked against closed forms
/// computed here from the self-test's documented patterns: element i of rank r is (i mod 251 + 1)(r + 1).
final class MPICollectiveTests: XCTestCase {
    /// Σ_i (i mod 251 + 1) for i in 0..<count.
    private func patternSum(_ count: Int) -> Double {
        (0..<count).reduce(0.0) { $0 + Double($1 % 251 + 1) }
    }

    func testAllReduceSumAndMeanMatchClosedForm() throws {
        let run = try MPISelftestRunner().run("allreduce")
        XCTAssertEqual(run.exitCode, 0, run.output)
        let records = run.records("RESULT allreduce ")
        XCTAssertEqual(records.count, 2 * 5 * 2 * 3, "2 ranks x 5 counts x 2 operations x 3 modes\n\(run.output)")
        for record in records {
            let count = try XCTUnwrap(record["count"].flatMap(Int.init))
            let size = try XCTUnwrap(record["size"].flatMap(Int.init))
            XCTAssertEqual(size, 2)
            let sumOverRanks = patternSum(count) * Double(size * (size + 1) / 2)
            let expected = record["op"] == "sum" ? sumOverRanks : sumOverRanks / Double(size)
            XCTAssertEqual(record["mismatches"], "0", "\(record)")
            XCTAssertEqual(try XCTUnwrap(record["checksum"].flatMap(Double.init)), expected, accuracy: 1e-9 * max(1, expected), "\(record)")
        }
    }

    func testBroadcastOfFloatsAndByteBlobsFromNonzeroRoot() throws {
        let run = try MPISelftestRunner().run("broadcast")
        XCTAssertEqual(run.exitCode, 0, run.output)
        let floats = run.records("RESULT broadcast-floats ")
        XCTAssertEqual(floats.count, 2, run.output)
        for record in floats {
            XCTAssertEqual(record["root"], "1")
            XCTAssertEqual(record["mismatches"], "0")
            XCTAssertEqual(try XCTUnwrap(record["checksum"].flatMap(Double.init)), patternSum(100_003) * 2, accuracy: 1e-6)
        }
        let blobs = run.records("RESULT broadcast-bytes ")
        XCTAssertEqual(blobs.count, 6, run.output)
        for record in blobs {
            let length = try XCTUnwrap(record["length"].flatMap(Int.init))
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            XCTAssertEqual(record["fnv"], String(fnv1a(bytes)), "blob of \(length) bytes")
        }
        XCTAssertEqual(Set(blobs.compactMap { $0["length"] }), ["0", "5", "1000003"])
        XCTAssertEqual(run.records("RESULT broadcast-config ").filter { $0["equal"] == "true" }.count, 2, run.output)
    }

    func testSendReceiveWithTagsChunksAndSizeErrors() throws {
        let run = try MPISelftestRunner().run("sendrecv")
        XCTAssertEqual(run.exitCode, 0, run.output)
        let tags = try XCTUnwrap(run.records("RESULT sendrecv-tags ").first, run.output)
        XCTAssertEqual(tags["large_mismatches"], "0")
        XCTAssertEqual(tags["small_mismatches"], "0")
        XCTAssertEqual(try XCTUnwrap(tags["large_checksum"].flatMap(Double.init)), patternSum(300_000), accuracy: 1e-6)
        XCTAssertEqual(run.records("RESULT sendrecv-pingpong ").first?["mismatches"], "0", run.output)
        XCTAssertEqual(run.records("RESULT sendrecv-chunked ").first?["mismatches"], "0", run.output)
        XCTAssertEqual(run.records("RESULT sendrecv-invalid-arguments ").first?["rejected"], "3", run.output)
        let sizes = try XCTUnwrap(run.records("RESULT sendrecv-size-check ").first, run.output)
        XCTAssertTrue(sizes["shorter"]?.contains("expected 12 elements, the message has 10") == true, "\(sizes)")
        XCTAssertTrue(sizes["longer"]?.contains("expected 8 elements, the message is longer") == true, "\(sizes)")
        XCTAssertEqual(run.records("RESULT sendrecv-done ").count, 2, "both ranks still communicate after the size errors")
    }

    func testBucketedReducerEqualsBlockingMeanReduction() throws {
        let run = try MPISelftestRunner().run("reducer")
        XCTAssertEqual(run.exitCode, 0, run.output)
        let records = run.records("RESULT reducer ")
        XCTAssertEqual(records.count, 6, run.output)
        for record in records {
            XCTAssertEqual(record["mismatches"], "0", "\(record)")
            XCTAssertEqual(record["closed_form_mismatches"], "0", "\(record)")
            XCTAssertEqual(record["differs_from_rank0"], "0", "\(record)")
            XCTAssertEqual(record["buckets"], "14", "\(record)")
            XCTAssertEqual(record["packed"], "7", "\(record)")
        }
        // Step 0 uses the integer pattern: the mean over 2 ranks is 1.5 (i mod 251 + 1).
        for record in records where record["step"] == "0" {
            XCTAssertEqual(try XCTUnwrap(record["checksum"].flatMap(Double.init)), patternSum(167_495) * 1.5, accuracy: 1e-6)
        }
        XCTAssertEqual(run.records("RESULT reducer-unmarked ").count, 2, run.output)
    }

    func testSplitIntoDataParallelAndPipelineGroups() throws {
        let run = try MPISelftestRunner().run("split", ranks: 4)
        XCTAssertEqual(run.exitCode, 0, run.output)
        let records = run.records("RESULT split ")
        XCTAssertEqual(records.count, 4, run.output)
        for record in records {
            let rank = try XCTUnwrap(record["rank"].flatMap(Int.init))
            let stage = rank % 2, replica = rank / 2
            // Data-parallel group of a stage: world ranks {stage, stage + 2}; pipeline group: {2 replica, 2 replica + 1}.
            XCTAssertEqual(record["dp_rank"], String(replica))
            XCTAssertEqual(record["dp_size"], "2")
            XCTAssertEqual(record["dp_sum"], String((stage + 1) + (stage + 3)))
            XCTAssertEqual(record["pp_rank"], String(stage))
            XCTAssertEqual(record["pp_size"], "2")
            XCTAssertEqual(record["pp_sum"], String((2 * replica + 1) + (2 * replica + 2)))
            XCTAssertEqual(record["reversed_rank"], String(3 - rank))
            XCTAssertEqual(record["relayed"], stage == 0 ? "384" : "192", "stage 0 gets 64 x 6 back, stage 1 gets 64 x 3")
        }
    }

    private func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}
