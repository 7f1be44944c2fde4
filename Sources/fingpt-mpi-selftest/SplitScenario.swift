import Distributed

/// Sub-communicators of a data-parallel x pipeline grid (world rank = replica * stages + stage; two
/// stages when the world size is even), plus a split with reversed keys.
enum SplitScenario {
    static func run(_ world: Communicator) throws {
        let stages = world.size % 2 == 0 ? 2 : 1
        let stage = world.rank % stages
        let replica = world.rank / stages
        let dataParallel = try world.split(color: stage, key: replica)
        let pipeline = try world.split(color: replica, key: stage)
        let reversed = try world.split(color: 0, key: world.size - 1 - world.rank)

        var dpSum: [Float] = [Float(world.rank + 1)]
        try dataParallel.allReduce(&dpSum, .sum)
        var ppSum: [Float] = [Float(world.rank + 1)]
        try pipeline.allReduce(&ppSum, .sum)
        let relayed = try relay(pipeline)

        Report.line("RESULT split rank=\(world.rank) stages=\(stages) dp_rank=\(dataParallel.rank) dp_size=\(dataParallel.size) dp_sum=\(Int(dpSum[0])) pp_rank=\(pipeline.rank) pp_size=\(pipeline.size) pp_sum=\(Int(ppSum[0])) reversed_rank=\(reversed.rank) relayed=\(relayed)")
        try SelftestFailure.expect(dataParallel.rank == replica && pipeline.rank == stage && reversed.rank == world.size - 1 - world.rank,
                                   "sub-communicator ranks do not follow the split keys")
        try expectColorRejected(world)
    }

    /// Stage 0 sends an "activation" to the next stage, which answers with a "gradient"; returns the
    /// value received (-1 on a single-stage pipeline).
    private static func relay(_ pipeline: Communicator) throws -> Int {
        guard pipeline.size > 1 else { return -1 }
        if pipeline.rank == 0 {
            try pipeline.send([Float](repeating: 3, count: 64), to: 1, tag: 100)
            let gradient = try pipeline.receive(count: 64, from: 1, tag: 200)
            return Int(gradient.reduce(0, +))
        }
        if pipeline.rank == 1 {
            let activation = try pipeline.receive(count: 64, from: 0, tag: 100)
            try pipeline.send(activation.map { $0 * 2 }, to: 0, tag: 200)
            return Int(activation.reduce(0, +))
        }
        return -1
    }

    private static func expectColorRejected(_ world: Communicator) throws {
        do {
            _ = try world.split(color: -1, key: 0)
            throw SelftestFailure("a negative split color was accepted")
        } catch let error as CommunicatorError {
            guard case .invalidArgument = error else { throw SelftestFailure("unexpected error \(error)") }
        }
    }
}
