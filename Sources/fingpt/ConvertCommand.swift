import Foundation
import Inference

/// `fingpt convert`: GGUF <-> Hugging Face safetensors, with a target type.
enum ConvertCommand {
    static let usage = """
    fingpt convert --in PATH --out PATH [--type f32|f16|bf16|q8_0|q4_0|q4_1] [--tokenizer PATH] [--keep-factors]
      --out ending in .gguf writes a GGUF file (f32, f16, q8_0, q4_0, q4_1) that llama.cpp loads;
      any other --out is a folder receiving config.json + model.safetensors (f32, f16, bf16).
      --in: a LLaMA GGUF, a Hugging Face folder or a fingpt checkpoint (LLaMA or GPT-2; a checkpoint
      has no tokenizer, so GGUF output needs --tokenizer). Low-rank layers are merged into dense
      weights for llama.cpp and transformers; --keep-factors writes the factors into the safetensors
      folder instead (smaller; fingpt loads it). A GPT-2 checkpoint converts to a Hugging Face GPT-2
      folder that transformers' GPT2LMHeadModel loads.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help", "keep-factors"])
        if a.flag("help") { print(usage); return }
        let input = try a.require("in"), output = try a.require("out")
        let typeName = a.string("type", default: output.hasSuffix(".gguf") ? "q8_0" : "f32")
        let tokenizer = a.string("tokenizer")
        let keepFactors = a.flag("keep-factors")
        try a.checkAllUsed()
        guard let target = ModelConverter.Target(rawValue: typeName) else {
            throw CLIError.usage("--type must be one of \(ModelConverter.Target.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        print(try ModelConverter.convert(input: input, output: output, target: target, tokenizerPath: tokenizer, keepFactors: keepFactors))
    }
}
