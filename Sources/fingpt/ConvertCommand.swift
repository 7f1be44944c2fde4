import Foundation
import Inference

/// `fingpt convert`: GGUF <-> Hugging Face safetensors, with a target type.
enum ConvertCommand {
    static let usage = """
    fingpt convert --in PATH --out PATH [--type f32|f16|bf16|q8_0|q4_0|q4_1] [--tokenizer PATH]
      --out ending in .gguf writes a GGUF file (f32, f16, q8_0, q4_0, q4_1) that llama.cpp loads;
      any other --out is a folder receiving config.json + model.safetensors (f32, f16, bf16).
      LLaMA-architecture models; a fingpt GPT-2 checkpoint converts to a Hugging Face GPT-2 folder
      (low-rank layers merged into dense weights) that transformers' GPT2LMHeadModel loads.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help"])
        if a.flag("help") { print(usage); return }
        let input = try a.require("in"), output = try a.require("out")
        let typeName = a.string("type", default: output.hasSuffix(".gguf") ? "q8_0" : "f32")
        let tokenizer = a.string("tokenizer")
        try a.checkAllUsed()
        guard let target = ModelConverter.Target(rawValue: typeName) else {
            throw CLIError.usage("--type must be one of \(ModelConverter.Target.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        print(try ModelConverter.convert(input: input, output: output, target: target, tokenizerPath: tokenizer))
    }
}
