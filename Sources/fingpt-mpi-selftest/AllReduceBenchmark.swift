import CMPI
import Distributed
import Foundation

/// Latency and bandwidth of a blocking all-reduce (sum) of 4 KB .. 64 MB float buffers, through
/// `MPICommunicator` and, for comparison, a direct blocking MPI_Allreduce (no timeout, no liveness).
enum AllReduceBenchmark {
    static let sizes = (0..<8).map { 4096 << (2 * $0) }   // 4 KB, 16 KB, ..., 64 MB

    static func run(_ comm: Communicator) throws {
        if comm.rank == 0 {
            Report.line("# all-reduce (sum, in place) over \(comm.size) ranks; times per call; algbw = bytes/time, busbw = algbw * 2(n-1)/n")
            Report.line(row(["bytes", "path", "iters", "median_us", "min_us", "algbw_GB/s", "busbw_GB/s"]))
        }
        for bytes in sizes {
            let count = bytes / MemoryLayout<Float>.stride
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            defer { buffer.deallocate() }
            buffer.initialize(repeating: 1)
            let iterations = max(5, min(200, (64 << 20) / bytes * 2))
            let wrapped = try time(comm, iterations) { try comm.allReduce(buffer, .sum) }
            report(comm, bytes: bytes, path: "communicator", iterations: iterations, seconds: wrapped)
            if let mpi = comm as? MPICommunicator {
                let raw = try time(comm, iterations) { try rawAllReduce(buffer, mpi) }
                report(comm, bytes: bytes, path: "raw-mpi", iterations: iterations, seconds: raw)
            }
        }
    }

    /// Per-call times after two warm-up calls, each call preceded by a barrier so ranks start together.
    private static func time(_ comm: Communicator, _ iterations: Int, _ body: () throws -> Void) throws -> [Double] {
        try body(); try body()
        var times: [Double] = []
        for _ in 0..<iterations {
            try comm.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return times
    }

    private static func report(_ comm: Communicator, bytes: Int, path: String, iterations: Int, seconds: [Double]) {
        guard comm.rank == 0 else { return }
        let sorted = seconds.sorted()
        let median = sorted[sorted.count / 2]
        let algbw = Double(bytes) / median / 1e9
        let busbw = algbw * 2 * Double(comm.size - 1) / Double(comm.size)
        Report.line(row([String(bytes), path, String(iterations), String(format: "%.1f", median * 1e6),
                          String(format: "%.1f", sorted[0] * 1e6), String(format: "%.3f", algbw), String(format: "%.3f", busbw)]))
    }

    /// Left-aligned columns: 10 characters for the first, 14 for the second, 12 for the rest.
    private static func row(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            cell.padding(toLength: max(cell.count, index == 0 ? 10 : index == 1 ? 14 : 12), withPad: " ", startingAt: 0)
        }.joined(separator: " ")
    }

    private static func rawAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ comm: MPICommunicator) throws {
        let code = MPI_Allreduce(fingpt_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), fingpt_mpi_float(), fingpt_mpi_sum(), fingpt_mpi_comm_world())
        if code != fingpt_mpi_success() { throw SelftestFailure("MPI_Allreduce returned \(code)") }
    }
}
