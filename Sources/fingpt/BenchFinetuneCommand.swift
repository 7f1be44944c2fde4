import Foundation
import Training

/// `fingpt bench-finetune`: times finetuning steps of a LLaMA model and prints one JSON line.
enum BenchFinetuneCommand {
    static let usage = """
    fingpt bench-finetune --model MODEL --mode full|lora|qlora-int8|qlora-nf4 [--recompute]
                          [--frozen-compute int16|f32] [--batch 4] [--seq 256] [--steps 3] [--warmup 1]
      LoRA r=8, alpha=16 on q,k,v,o,gate,up,down; random tokens, every position scored. Prints
      tokens_per_s and peak_rss_mb (of this process: run one mode per process).
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["recompute", "help"])
        if a.flag("help") { print(usage); return }
        let model = try a.require("model")
        let modeName = a.string("mode", default: "qlora-nf4")
        guard let mode = FinetuneBenchmark.Mode(rawValue: modeName) else {
            throw CLIError.usage("--mode must be one of \(FinetuneBenchmark.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let arithmetic = try FrozenComputeArgument.read(&a)
        let r = try FinetuneBenchmark.run(model: model, mode: mode, recompute: a.flag("recompute"), batch: try a.int("batch", default: 4),
                                          seq: try a.int("seq", default: 256), steps: try a.int("steps", default: 3),
                                          warmup: try a.int("warmup", default: 1), arithmetic: arithmetic)
        try a.checkAllUsed()
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        print(String(decoding: try enc.encode(r), as: UTF8.self))
    }
}
