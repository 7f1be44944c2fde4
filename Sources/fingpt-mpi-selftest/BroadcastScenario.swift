import Distributed

/// Broadcast of floats and of byte blobs from the last rank (not rank 0, to catch a root mix-up).
enum BroadcastScenario {
    static let floatCount = 100_003
    static let blobSizes = [0, 5, 1_000_003]
    static let config = #"{"learning_rate":0.0003,"stages":2,"note":"Δ résumé"}"#

    static func run(_ comm: Communicator) throws {
        let root = comm.size - 1
        try broadcastFloats(comm, root: root)
        for size in blobSizes { try broadcastBlob(comm, root: root, size: size) }
        let text = try comm.broadcast(bytes: comm.rank == root ? Array(config.utf8) : [], root: root)
        let received = String(decoding: text, as: UTF8.self)
        Report.line("RESULT broadcast-config rank=\(comm.rank) root=\(root) equal=\(received == config)")
        try SelftestFailure.expect(received == config, "config blob arrived as \(received)")
    }

    private static func broadcastFloats(_ comm: Communicator, root: Int) throws {
        var values = (0..<floatCount).map { comm.rank == root ? TestPattern.value(rank: root, index: $0) : -1 }
        try comm.broadcast(&values, root: root)
        let mismatches = (0..<floatCount).filter { values[$0] != TestPattern.value(rank: root, index: $0) }.count
        let checksum = values.reduce(0.0) { $0 + Double($1) }
        Report.line("RESULT broadcast-floats rank=\(comm.rank) root=\(root) count=\(floatCount) mismatches=\(mismatches) checksum=\(Report.number(checksum))")
        try SelftestFailure.expect(mismatches == 0, "broadcast floats: \(mismatches) elements differ from the root's")
    }

    private static func broadcastBlob(_ comm: Communicator, root: Int, size: Int) throws {
        let expected = (0..<size).map(TestPattern.byte)
        let mine: [UInt8] = comm.rank == root ? expected : [1, 2, 3]
        let blob = try comm.broadcast(bytes: mine, root: root)
        Report.line("RESULT broadcast-bytes rank=\(comm.rank) root=\(root) length=\(blob.count) fnv=\(TestPattern.fnv1a(blob))")
        try SelftestFailure.expect(blob.count == size, "byte broadcast: \(blob.count) bytes arrived, root sent \(size)")
        try SelftestFailure.expect(blob == expected, "byte broadcast of \(size): content differs")
    }
}
