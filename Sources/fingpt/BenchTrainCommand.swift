import Foundation
import Models
import Training

/// `fingpt bench-train`: times GPT-2 training steps on random tokens and prints one JSON line.
enum BenchTrainCommand {
    static let usage = """
    fingpt bench-train [--preset gpt2] [--n-layer L --n-embd C --n-head H --vocab V --block N]
                       [--batch 4] [--seq 256] [--steps 5] [--warmup 2] [--recompute]
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["recompute"])
        var config = try GPT2Config.load(presetOrPath: a.string("preset", default: "gpt2"))
        if let v = try a.int("n-layer") { config.layers = v }
        if let v = try a.int("n-embd") { config.embeddingSize = v }
        if let v = try a.int("n-head") { config.heads = v }
        if let v = try a.int("vocab") { config.vocabSize = v }
        if let v = try a.int("block") { config.contextLength = v }
        let batch = try a.int("batch", default: 4), seq = try a.int("seq", default: 256)
        let steps = try a.int("steps", default: 5), warmup = try a.int("warmup", default: 2)
        let recompute = a.flag("recompute")
        try a.checkAllUsed()
        try config.validate()
        let r = try TrainingBenchmark.run(config: config, batch: batch, seq: seq, steps: steps, warmup: warmup, recompute: recompute)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        print(String(decoding: try enc.encode(r), as: UTF8.self))
    }
}
