import Distributed

/// All-reduce (sum and mean; blocking, non-blocking, and split into small MPI calls) against the closed
/// form of `TestPattern`.
enum AllReduceScenario {
    static let counts = [0, 1, 7, 4099, 100_003]

    static func run(_ comm: Communicator) throws {
        for count in counts {
            for operation in ReduceOperation.allCases {
                for mode in ["blocking", "nonblocking", "chunked"] {
                    try check(comm, count: count, operation: operation, mode: mode)
                }
            }
        }
    }

    private static func check(_ comm: Communicator, count: Int, operation: ReduceOperation, mode: String) throws {
        var values = (0..<count).map { TestPattern.value(rank: comm.rank, index: $0) }
        let mpi = comm as? MPICommunicator
        if mode == "chunked" { mpi?.maximumElementsPerCall = 1000 }
        defer { mpi?.maximumElementsPerCall = Int(Int32.max) }
        if mode == "nonblocking" {
            try values.withUnsafeMutableBufferPointer { buffer in
                let request = try comm.startAllReduce(buffer, operation)
                while try !request.test() {}
                try request.wait()
            }
        } else {
            try comm.allReduce(&values, operation)
        }
        var mismatches = 0
        var checksum = 0.0
        for i in 0..<count {
            let correct = operation == .sum ? values[i] == TestPattern.sum(size: comm.size, index: i)
                                            : TestPattern.isMean(values[i], size: comm.size, index: i)
            if !correct { mismatches += 1 }
            checksum += Double(values[i])
        }
        Report.line("RESULT allreduce rank=\(comm.rank) size=\(comm.size) count=\(count) op=\(operation.rawValue) mode=\(mode) mismatches=\(mismatches) checksum=\(Report.number(checksum))")
        try SelftestFailure.expect(mismatches == 0, "all-reduce \(operation) of \(count) (\(mode)): \(mismatches) elements differ from the closed form")
    }
}
