import Foundation
import Inference
import Models

/// `fingpt generate`: continue a prompt (raw, or as one chat turn with --chat) and stream the text.
enum GenerateCommand {
    static let usage = """
    fingpt generate --model PATH [--adapter DIR] --prompt TEXT [--chat] [--system TEXT] [--tokenizer PATH] [--context N]
                    \(GenerationArguments.usage) [--stats]
      PATH: a GGUF file (LLaMA runs on its quantized weights), a Hugging Face folder, or a checkpoint.
      --adapter: a LoRA adapter (PEFT folder, `fingpt finetune` output or its checkpoint) added on top.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["chat", "stats", "help"])
        if a.flag("help") { print(usage); return }
        let path = try a.require("model"), prompt = try a.require("prompt")
        let chat = a.flag("chat"), showStats = a.flag("stats")
        let system = a.string("system")
        let tokenizer = a.string("tokenizer"), adapter = a.string("adapter")
        let context = try a.int("context")
        var options = try GenerationArguments.parse(&a)
        try a.checkAllUsed()
        let loaded = try LanguageModelLoader.load(path: path, tokenizerPath: tokenizer, maxContext: context, adapterPath: adapter)
        let stats: TextGeneration.Stats
        if chat {
            let session = ChatSession(loaded: loaded, system: system, options: options)
            stats = try session.send(prompt) { print($0, terminator: ""); fflush(stdout) }.stats
            print()
        } else {
            if let eos = loaded.tokenizer.eosID { options.stopTokens.insert(eos) }
            let ids = loaded.tokenizer.encode(prompt, allowSpecial: true)
            var decoder = StreamingDecoder(tokenizer: loaded.tokenizer)
            print(prompt, terminator: "")
            stats = try TextGeneration.generate(model: loaded.model, prompt: ids, options: options) {
                print(decoder.push($0), terminator: ""); fflush(stdout); return true
            }
            print(decoder.finish())
        }
        fflush(stdout)
        if showStats {
            FileHandle.standardError.write(Data(String(format: "[%@] prompt %d tokens, %.1f tokens/s; generated %d tokens, %.1f tokens/s\n",
                                                       loaded.description, stats.promptTokens, stats.promptTokensPerSecond,
                                                       stats.generatedTokens, stats.generationTokensPerSecond).utf8))
        }
    }
}
