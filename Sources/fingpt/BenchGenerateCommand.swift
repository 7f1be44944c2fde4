import Foundation
import Inference
import Models
import Tensor
import Training

/// `fingpt bench-generate`: prompt-processing and generation speed on a model, one JSON line.
enum BenchGenerateCommand {
    static let usage = "fingpt bench-generate --model PATH [--prompt-tokens 512] [--gen-tokens 128] [--repeats 3] [--threads N]"

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help"])
        if a.flag("help") { print(usage); return }
        let path = try a.require("model")
        let pp = try a.int("prompt-tokens", default: 512), tg = try a.int("gen-tokens", default: 128)
        let repeats = try a.int("repeats", default: 3)
        _ = try a.int("threads") // threads are set through FINGPT_THREADS / OPENBLAS_NUM_THREADS before start-up
        try a.checkAllUsed()
        let loaded = try LanguageModelLoader.load(path: path, maxContext: pp + tg + 1)
        let profiler = PhaseTimer()
        let profile = ProcessInfo.processInfo.environment["FINGPT_PROFILE"] != nil
        if profile, let runner = loaded.model as? LlamaRunner { runner.profiler = profiler }
        var rng = RandomGenerator(seed: 1)
        let prompt = (0..<pp).map { _ in Int32(rng.nextInt(below: loaded.model.vocabularySize)) }
        var best = TextGeneration.Stats()
        var options = GenerationOptions()
        options.maxNewTokens = tg
        for _ in 0..<repeats {
            loaded.model.reset()
            let s = try TextGeneration.generate(model: loaded.model, prompt: prompt, options: options)
            if best.promptSeconds == 0 || s.promptSeconds < best.promptSeconds { best.promptSeconds = s.promptSeconds; best.promptTokens = s.promptTokens }
            if best.generationSeconds == 0 || s.generationSeconds < best.generationSeconds {
                best.generationSeconds = s.generationSeconds; best.generatedTokens = s.generatedTokens
            }
        }
        if profile { FileHandle.standardError.write(Data(("profile over \(repeats) runs (ms per run):\n" + profiler.report(divideBy: repeats) + "\n").utf8)) }
        let obj: [String: Any] = ["impl": "fingpt", "model": path, "description": loaded.description, "prompt_tokens": pp, "gen_tokens": best.generatedTokens,
                                  "prompt_tokens_per_s": best.promptTokensPerSecond, "gen_tokens_per_s": best.generationTokensPerSecond,
                                  "peak_rss_mb": Double(ResourceUsage.peakResidentBytes()) / 1_048_576, "weight_mb": Double(loaded.weightBytes) / 1_048_576,
                                  "threads": ProcessInfo.processInfo.environment["FINGPT_THREADS"] ?? "\(ProcessInfo.processInfo.activeProcessorCount)"]
        print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
    }
}
