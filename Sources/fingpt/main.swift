import Foundation
import Tensor

let commands: [(name: String, summary: String, run: ([String]) throws -> Void)] = [
    ("prepare", "tokenize a text corpus into llm.c token shards", PrepareCommand.run),
    ("pretrain", "pretrain a GPT-2 or LLaMA model (from scratch, low-rank, or from a pretrained one)", PretrainCommand.run),
    ("finetune", "LoRA / QLoRA (or full) instruction finetuning of a LLaMA model on JSONL data", FinetuneCommand.run),
    ("merge", "merge a LoRA adapter into its base model (GGUF at a chosen type, or safetensors)", MergeCommand.run),
    ("split", "hold out a dev share of instruction JSONL files (seeded, stable)", SplitCommand.run),
    ("lowrank", "factorise a dense checkpoint by truncated SVD (or merge factors back)", LowRankCommand.run),
    ("sample", "generate text from a pretraining checkpoint", SampleCommand.run),
    ("generate", "continue a prompt with a model (GGUF, Hugging Face folder or checkpoint)", GenerateCommand.run),
    ("chat", "chat with an instruct model, reading messages from standard input", ChatCommand.run),
    ("perplexity", "sliding-window perplexity of a text file", PerplexityCommand.run),
    ("eval", "FinGPT sentiment benchmark, per-document perplexity, multiple-choice tasks", EvalCommand.run),
    ("convert", "convert LLaMA models between GGUF and Hugging Face safetensors", ConvertCommand.run),
    ("inspect", "show a model file's metadata, tensors, parameter count and size", InspectCommand.run),
    ("bench-train", "time GPT-2 training steps on random tokens (JSON line)", BenchTrainCommand.run),
    ("bench-finetune", "time LoRA / QLoRA / full finetuning steps of a LLaMA model (JSON line)", BenchFinetuneCommand.run),
    ("bench-generate", "time prompt processing and generation (JSON line)", BenchGenerateCommand.run),
]

func printUsage() {
    var s = "fingpt: pretrain and finetune financial language models on CPU\n\nusage: fingpt <command> [options]\n\ncommands:\n"
    for c in commands { s += "  " + c.name.padding(toLength: 14, withPad: " ", startingAt: 0) + c.summary + "\n" }
    s += "\nRun `fingpt <command> --help` for a command's options.\n"
    print(s, terminator: "")
}

let argv = Array(CommandLine.arguments.dropFirst())
/// "rank N: " when launched by mpirun (pretrain and finetune start MPI through `Communicators.world()`).
let rankPrefix = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"].map { "rank \($0): " } ?? ""
guard let name = argv.first, name != "--help", name != "-h", name != "help" else {
    printUsage()
    exit(argv.isEmpty ? 1 : 0)
}
guard let command = commands.first(where: { $0.name == name }) else {
    FileHandle.standardError.write(Data("error: unknown command '\(name)'\n".utf8))
    printUsage()
    exit(2)
}
// OpenBLAS's idle workers must not keep spinning on the cores our own parallel loops use
BLAS.limitIdleSpinning()
do {
    try command.run(Array(argv.dropFirst()))
} catch let e as CLIError {
    FileHandle.standardError.write(Data("\(rankPrefix)error: \(e)\n".utf8))
    exit(2)
} catch {
    // under mpirun a failed rank exits without finalizing MPI; mpirun then ends the others
    FileHandle.standardError.write(Data("\(rankPrefix)error: \(error)\n".utf8))
    exit(1)
}
