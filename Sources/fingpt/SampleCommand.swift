import Foundation
import Inference
import Models
import Tokenizers
import Training

/// `fingpt sample`: generates text from a pretraining checkpoint (GPT-2 or LLaMA, dense or low-rank).
enum SampleCommand {
    static let usage = """
    fingpt sample --checkpoint FILE --tokenizer MODEL.gguf [--prompt TEXT] [--tokens 64]
                  [--temperature 0 (greedy)] [--top-k 0] [--top-p 1] [--repeat-penalty 1] [--seed 0]
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help"])
        if a.flag("help") { print(usage); return }
        let checkpoint = try a.require("checkpoint"), tokenizerPath = try a.require("tokenizer")
        let prompt = a.string("prompt", default: "<|endoftext|>")
        let count = try a.int("tokens", default: 64)
        var options = GenerationOptions()
        options.maxNewTokens = count
        options.temperature = try a.float("temperature", default: 0)
        options.topK = try a.int("top-k", default: 0)
        options.topP = try a.float("top-p", default: 1)
        options.repetitionPenalty = try a.float("repeat-penalty", default: 1)
        options.seed = UInt64(try a.int("seed", default: 0))
        try a.checkAllUsed()
        let loaded = try LanguageModelLoader.load(path: checkpoint, tokenizerPath: tokenizerPath)
        let model = loaded.model, tokenizer = loaded.tokenizer
        guard tokenizer.vocabularySize == model.vocabularySize else {
            throw CLIError.usage("the tokenizer has \(tokenizer.vocabularySize) tokens but the model was trained on \(model.vocabularySize)")
        }
        let ids = tokenizer.encode(prompt, allowSpecial: true, addBOS: false)
        print(prompt.replacingOccurrences(of: "<|endoftext|>", with: ""), terminator: "")
        options.stopTokens = Set([tokenizer.endOfTextID].compactMap { $0 })
        var generated: [Int32] = []
        var printed = ""
        try TextGeneration.generate(model: model, prompt: Array(ids.suffix(model.maxContext - 1)), options: options) { id in
            generated.append(id)
            let text = tokenizer.decode(generated)
            // print only complete characters: hold back a trailing replacement from a split UTF-8 sequence
            if !text.hasSuffix("\u{FFFD}") {
                print(text.dropFirst(printed.count), terminator: "")
                fflush(stdout)
                printed = text
            }
            return true
        }
        print(tokenizer.decode(generated).dropFirst(printed.count))
    }
}
