import Foundation
import XCTest

/// Runs the `fingpt-mpi-selftest` executable under `mpirun` and parses its output lines.
///
/// Skips (XCTSkip) when `mpirun` or the built self-test executable cannot be found. Every run is bounded
/// by a wall-clock limit, after which mpirun is terminated and the test fails, so a hang cannot stall
/// the suite.
struct MPISelftestRunner {
    /// The result of one `mpirun` invocation.
    struct Run {
        let output: String
        let exitCode: Int32
        let seconds: Double

        /// The `key=value` fields of every line starting with `prefix` (e.g. "RESULT allreduce ").
        func records(_ prefix: String) -> [[String: String]] {
            output.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map { MPISelftestRunner.fields(String($0)) }
        }

        /// Exit statuses reported by the shell wrapper, by world rank.
        var rankExitCodes: [Int: Int32] {
            var codes: [Int: Int32] = [:]
            for record in records("EXIT ") {
                if let rank = record["rank"].flatMap(Int.init), let status = record["status"].flatMap(Int32.init) { codes[rank] = status }
            }
            return codes
        }
    }

    let mpirun: String
    let executable: String

    /// Finds `mpirun` on PATH and the self-test next to the test bundle (or at `$FINGPT_MPI_SELFTEST`).
    init() throws {
        guard let mpirun = MPISelftestRunner.findOnPath("mpirun") else {
            throw XCTSkip("mpirun not found on PATH; install openmpi-bin to run the MPI tests")
        }
        guard let executable = MPISelftestRunner.findSelftest() else {
            throw XCTSkip("fingpt-mpi-selftest not built next to the test bundle; run `swift build --build-tests` first")
        }
        self.mpirun = mpirun
        self.executable = executable
    }

    /// Runs `mpirun -np ranks [mpirunOptions] <selftest> scenario`; with `reportExitCodes` each rank runs
    /// under a shell that prints `EXIT rank=R status=S` when the rank's process ends.
    func run(_ scenario: String, arguments extra: [String] = [], ranks: Int = 2, mpirunOptions: [String] = [], reportExitCodes: Bool = false,
             limit: Double = 60) throws -> Run {
        var arguments = ["-np", String(ranks), "--oversubscribe"] + mpirunOptions
        if reportExitCodes {
            arguments += ["/bin/sh", "-c", #""$0" "$@"; s=$?; echo "EXIT rank=$OMPI_COMM_WORLD_RANK status=$s"; exit $s"#, executable, scenario] + extra
        } else {
            arguments += [executable, scenario] + extra
        }
        return try execute(arguments, limit: limit)
    }

    /// Runs the self-test as one plain process (no mpirun), e.g. to resume a checkpoint on one rank.
    func runAlone(_ scenario: String, arguments extra: [String] = [], limit: Double = 60) throws -> Run {
        try execute([executable, scenario] + extra, limit: limit, launcher: executable)
    }

    private func execute(_ arguments: [String], limit: Double, launcher: String? = nil) throws -> Run {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("fingpt-mpi-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher ?? mpirun)
        process.arguments = launcher == nil ? arguments : Array(arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        let start = Date()
        try process.run()
        while process.isRunning && Date().timeIntervalSince(start) < limit { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            try? handle.close()
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            XCTFail("mpirun \(arguments.joined(separator: " ")) still running after \(limit) s; output:\n\(output)")
            return Run(output: output, exitCode: -1, seconds: limit)
        }
        let seconds = Date().timeIntervalSince(start)
        try? handle.close()
        let output = try String(contentsOf: log, encoding: .utf8)
        return Run(output: output, exitCode: process.terminationStatus, seconds: seconds)
    }

    /// Splits `WORD WORD key=value key="quoted value" ...` into its key/value fields.
    static func fields(_ line: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(line)
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].split(separator: " ").last.map(String.init) ?? ""
            var valueStart = rest.index(after: equals)
            let value: Substring
            if valueStart < rest.endIndex && rest[valueStart] == "\"" {
                valueStart = rest.index(after: valueStart)
                let close = rest[valueStart...].firstIndex(of: "\"") ?? rest.endIndex
                value = rest[valueStart..<close]
                rest = close < rest.endIndex ? rest[rest.index(after: close)...] : ""
            } else if key == "error" {
                value = rest[valueStart...]
                rest = ""
            } else {
                let end = rest[valueStart...].firstIndex(of: " ") ?? rest.endIndex
                value = rest[valueStart..<end]
                rest = rest[end...]
            }
            result[key] = String(value)
        }
        return result
    }

    private static func findOnPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    private static func findSelftest() -> String? {
        if let explicit = ProcessInfo.processInfo.environment["FINGPT_MPI_SELFTEST"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        var directories = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        for directory in directories {
            let candidate = directory.appendingPathComponent("fingpt-mpi-selftest").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
