import XCTest

/// A rank that dies or stalls must make the other rank throw a clear error and exit non-zero within
/// seconds. Each rank runs under a shell that reports its exit status.
final class MPIFailureTests: XCTestCase {
    /// The last rank SIGKILLs itself inside step 3 while rank 0 waits in the all-reduce. `--enable-recovery`
    /// keeps mpirun from tearing rank 0 down, so what is measured is rank 0's own detection.
    func testPeerKilledMidStepMakesOtherRankThrowWithinSeconds() throws {
        let run = try MPISelftestRunner().run("peer-exit", mpirunOptions: ["--enable-recovery"], reportExitCodes: true, limit: 30)
        let died = try XCTUnwrap(run.records("EVENT dying ").first, run.output)
        let caught = try XCTUnwrap(run.records("EVENT caught ").first, run.output)
        XCTAssertEqual(caught["rank"], "0")
        XCTAssertEqual(caught["step"], "3")
        XCTAssertTrue(caught["error"]?.contains("peer rank 1") == true && caught["error"]?.contains("has exited") == true,
                      "error should name the dead peer: \(caught["error"] ?? "")")
        let latency = try XCTUnwrap(caught["at"].flatMap(Double.init)) - XCTUnwrap(died["at"].flatMap(Double.init))
        XCTAssertLessThan(latency, 2.0, "rank 0 noticed the dead peer after \(latency) s")
        XCTAssertEqual(run.rankExitCodes[0], 1, "rank 0 exits 1 after the error\n\(run.output)")
        XCTAssertEqual(run.rankExitCodes[1], 137, "rank 1 died of SIGKILL\n\(run.output)")
        XCTAssertLessThan(run.seconds, 15, "the whole job ended after \(run.seconds) s")
        print("peer-exit: detected \(String(format: "%.3f", latency)) s after the peer died; mpirun ran \(String(format: "%.2f", run.seconds)) s")
    }

    /// The last rank is alive but does not join a barrier for 4 s; rank 0's 1 s timeout must fire.
    func testStalledPeerHitsTimeoutInsteadOfHanging() throws {
        let run = try MPISelftestRunner().run("stall", reportExitCodes: true, limit: 30)
        let caught = try XCTUnwrap(run.records("EVENT caught ").first, run.output)
        XCTAssertEqual(caught["rank"], "0")
        XCTAssertTrue(caught["error"]?.contains("did not complete within 1 s") == true, "\(caught["error"] ?? "")")
        let waited = try XCTUnwrap(caught["waited"].flatMap(Double.init))
        XCTAssertGreaterThanOrEqual(waited, 1.0)
        XCTAssertLessThan(waited, 3.0, "the 1 s timeout fired late")
        XCTAssertEqual(run.rankExitCodes[0], 1, run.output)
        XCTAssertNotEqual(run.exitCode, 0, "mpirun reports the failure")
        XCTAssertLessThan(run.seconds, 15)
    }
}
