import Distributed
import Foundation

// Multi-process checks of the Distributed module, run as `mpirun -np N fingpt-mpi-selftest <scenario>`
// (or without mpirun on one process). Prints RESULT/EVENT lines; exits 1 after a failure.

let scenarios: [(name: String, run: (Communicator) throws -> Void)] = [
    ("allreduce", AllReduceScenario.run),
    ("broadcast", BroadcastScenario.run),
    ("sendrecv", SendReceiveScenario.run),
    ("reducer", BucketReducerScenario.run),
    ("split", SplitScenario.run),
    ("peer-exit", FailureScenarios.peerExit),
    ("stall", FailureScenarios.stall),
    ("bench", AllReduceBenchmark.run),
    ("train", { try TrainingScenarios.run($0, scenarioArguments) }),
]

let arguments = Array(CommandLine.arguments.dropFirst())
/// Arguments after the scenario name (the `train` scenario's mode and folder).
let scenarioArguments = Array(arguments.dropFirst())
guard arguments.count >= 1, let scenario = scenarios.first(where: { $0.name == arguments[0] }),
      arguments.count == 1 || scenario.name == "train" else {
    let names = scenarios.map(\.name).joined(separator: "|")
    FileHandle.standardError.write(Data("usage: fingpt-mpi-selftest <\(names)> (train: <dp|pp|pp-lora|dp-pp|resume> <folder> ...)\n".utf8))
    exit(2)
}

var rank = 0
do {
    let world = try Communicators.world()
    rank = world.rank
    try scenario.run(world)
    try Communicators.finalize(world)
    Report.line("PASS \(scenario.name) rank=\(rank)")
    exit(0)
} catch {
    Report.line("FAIL \(scenario.name) rank=\(rank): \(error)")
    exit(1)
}
