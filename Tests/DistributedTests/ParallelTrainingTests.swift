import Foundation
import Training
import XCTest

/// Data- and pipeline-parallel training under mpirun against a single-process run of the same model
/// and data (computed by rank 0 of the self-test after the parallel run): the step losses must agree up
/// to float summation order and the final weights closely (AdamW divides by sqrt(v), which amplifies
/// the rounding differences of tiny gradients a little).
final class ParallelTrainingTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "fingpt-parallel-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    private func assertMatchesReference(_ run: MPISelftestRunner.Run, mode: String, ranks: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(run.exitCode, 0, run.output, file: file, line: line)
        let record = try XCTUnwrap(run.records("RESULT train ").first, run.output, file: file, line: line)
        XCTAssertEqual(record["mode"], mode, file: file, line: line)
        XCTAssertEqual(record["ranks"], String(ranks), file: file, line: line)
        XCTAssertEqual(record["steps"], "4", file: file, line: line)
        XCTAssertEqual(record["val_count"], "3", "validation at steps 0, 2, 4", file: file, line: line)
        XCTAssertLessThan(try XCTUnwrap(record["loss_diff"].flatMap(Float.init)), 1e-5, "\(record)", file: file, line: line)
        XCTAssertLessThan(try XCTUnwrap(record["val_diff"].flatMap(Float.init)), 1e-5, "\(record)", file: file, line: line)
        XCTAssertLessThan(try XCTUnwrap(record["weight_diff"].flatMap(Float.init)), 2e-4, "\(record)", file: file, line: line)
        // training does something: the loss falls from its start
        XCTAssertLessThan(try XCTUnwrap(record["last_loss"].flatMap(Float.init)), try XCTUnwrap(record["first_loss"].flatMap(Float.init)),
                          file: file, line: line)
    }

    func testDataParallelMatchesSingleProcess() throws {
        let run = try MPISelftestRunner().run("train", arguments: ["dp", folder])
        try assertMatchesReference(run, mode: "dp", ranks: 2)
    }

    func testPipelineParallelWithRecomputationMatchesSingleProcess() throws {
        let run = try MPISelftestRunner().run("train", arguments: ["pp", folder])
        try assertMatchesReference(run, mode: "pp", ranks: 2)
        XCTAssertTrue(run.output.contains("stage_1_of_2_(blocks_2..<4)"), run.output)
    }

    func testPipelineParallelLoRAFinetuningMatchesSingleProcess() throws {
        let run = try MPISelftestRunner().run("train", arguments: ["pp-lora", folder])
        try assertMatchesReference(run, mode: "pp-lora", ranks: 2)
        XCTAssertEqual(run.records("RESULT train ").first?["trainable"], "8192", "only the adapter's factors train")
    }

    func testDataAndPipelineParallelOnFourRanksMatchesSingleProcess() throws {
        let run = try MPISelftestRunner().run("train", arguments: ["dp-pp", folder], ranks: 4, limit: 90)
        try assertMatchesReference(run, mode: "dp-pp", ranks: 4)
    }

    /// A pipeline run on 2 ranks stops after step 2; one process resumes its checkpoint and ends where
    /// an uninterrupted single-process run ends.
    func testCheckpointFromTwoPipelineRanksResumesOnOneProcess() throws {
        let runner = try MPISelftestRunner()
        let first = try runner.run("train", arguments: ["pp", folder, "-", "2"])
        XCTAssertEqual(first.exitCode, 0, first.output)
        let resumed = try runner.runAlone("train", arguments: ["resume", "pp", folder])
        XCTAssertEqual(resumed.exitCode, 0, resumed.output)
        let record = try XCTUnwrap(resumed.records("RESULT resume ").first, resumed.output)
        XCTAssertEqual(record["resumed_at"], "2")
        XCTAssertEqual(record["final_step"], "4")
        XCTAssertLessThan(try XCTUnwrap(record["loss_diff"].flatMap(Float.init)), 1e-5, "\(record)")
        XCTAssertLessThan(try XCTUnwrap(record["weight_diff"].flatMap(Float.init)), 2e-4, "\(record)")
    }

    /// Rank 1 is SIGKILLed while drawing step 3's batches: rank 0 throws a clear error within seconds;
    /// then one process restarts from the last checkpoint (step 2) and finishes like an uninterrupted run.
    func testRankKilledMidStepFailsFastAndRestartContinues() throws {
        let runner = try MPISelftestRunner()
        let run = try runner.run("train", arguments: ["dp", folder, "3"], mpirunOptions: ["--enable-recovery"], reportExitCodes: true, limit: 30)
        let died = try XCTUnwrap(run.records("EVENT dying ").first, run.output)
        let caught = try XCTUnwrap(run.records("EVENT caught ").first, run.output)
        XCTAssertEqual(caught["rank"], "0")
        XCTAssertTrue(caught["error"]?.contains("peer rank 1") == true && caught["error"]?.contains("has exited") == true, "\(caught)")
        let latency = try XCTUnwrap(caught["at"].flatMap(Double.init)) - XCTUnwrap(died["at"].flatMap(Double.init))
        XCTAssertLessThan(latency, 2.0, "rank 0 noticed the dead peer after \(latency) s")
        XCTAssertEqual(run.rankExitCodes[0], 1, run.output)
        XCTAssertNil(run.records("RESULT train ").first, "the run must not finish")
        let resumed = try runner.runAlone("train", arguments: ["resume", "dp", folder])
        XCTAssertEqual(resumed.exitCode, 0, resumed.output)
        let record = try XCTUnwrap(resumed.records("RESULT resume ").first, resumed.output)
        XCTAssertEqual(record["resumed_at"], "2", "the last checkpoint before the kill")
        XCTAssertEqual(record["final_step"], "4")
        XCTAssertLessThan(try XCTUnwrap(record["loss_diff"].flatMap(Float.init)), 1e-5, "\(record)")
        XCTAssertLessThan(try XCTUnwrap(record["weight_diff"].flatMap(Float.init)), 2e-4, "\(record)")
    }
}
