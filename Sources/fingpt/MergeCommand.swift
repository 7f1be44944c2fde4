import Foundation
import Inference

/// `fingpt merge`: base model + LoRA adapter -> one model (GGUF at a chosen type, or safetensors).
enum MergeCommand {
    static let usage = """
    fingpt merge --model BASE --adapter DIR --out PATH [--type q4_1|q4_0|q8_0|f16|f32|bf16] [--tokenizer PATH]
      BASE: the adapter's base model (LLaMA GGUF, Hugging Face folder or checkpoint), decoded to float32;
      DIR: a PEFT adapter folder, a `fingpt finetune` output folder or its checkpoint.
      W' = W + scaling B A for every adapted module, then written like `fingpt convert`: --out ending in
      .gguf gives a GGUF file re-quantized to --type (default q4_1), anything else a safetensors folder.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help"])
        if a.flag("help") { print(usage); return }
        let base = try a.require("model"), adapter = try a.require("adapter"), output = try a.require("out")
        let typeName = a.string("type", default: output.hasSuffix(".gguf") ? "q4_1" : "f32")
        let tokenizer = a.string("tokenizer")
        try a.checkAllUsed()
        guard let target = ModelConverter.Target(rawValue: typeName) else {
            throw CLIError.usage("--type must be one of \(ModelConverter.Target.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        print(try ModelConverter.merge(base: base, adapter: adapter, output: output, target: target, tokenizerPath: tokenizer))
    }
}
