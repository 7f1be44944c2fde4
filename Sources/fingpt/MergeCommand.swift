import Foundation
import Inference

/// `fingpt merge`: base model + LoRA adapter -> one model (GGUF at a chosen type, or safetensors).
enum MergeCommand {
    static let usage = """
    fingpt merge --model BASE --adapter DIR --out PATH [--type q4_1|q4_0|q8_0|f16|f32|bf16] [--tokenizer PATH]
                 [--requantize base-grid-stochastic|base-grid|fresh] [--seed 0]
      BASE: the adapter's base model (LLaMA GGUF, Hugging Face folder or checkpoint), decoded to float32;
      DIR: a PEFT adapter folder, a `fingpt finetune` output folder or its checkpoint.
      W' = W + scaling B A for every adapted module, then written like `fingpt convert`: --out ending in
      .gguf gives a GGUF file in --type (default q4_1), anything else a safetensors folder.
      From a GGUF base, a tensor written in its base type keeps the base's encoding: tensors no adapter
      module changes are copied byte for byte, and an adapted Q4_0/Q4_1/Q8_0 tensor is encoded as
      --requantize says:
        base-grid-stochastic  (default) keep every block's stored scale (and min) and round each merged
                              value to one of its two neighbouring codes, up with probability equal to its
                              position between them (a hash of tensor, element and --seed: reproducible),
                              so the update survives on average;
        base-grid             the same grid, nearest code (updates under half a step are rounded away);
        fresh                 quantize the merged values from scratch (new scales: a second rounding error).
      A block whose merged values leave its grid by more than half a step is quantized from scratch
      (counted in the summary). Other types (e.g. q8_0 from a Q4_1 base) are always quantized afresh.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help"])
        if a.flag("help") { print(usage); return }
        let base = try a.require("model"), adapter = try a.require("adapter"), output = try a.require("out")
        let typeName = a.string("type", default: output.hasSuffix(".gguf") ? "q4_1" : "f32")
        let tokenizer = a.string("tokenizer")
        let requantizeName = a.string("requantize", default: MergeRequantization.defaultForSameType.rawValue)
        let seed = try a.int("seed", default: 0)
        try a.checkAllUsed()
        guard let target = ModelConverter.Target(rawValue: typeName) else {
            throw CLIError.usage("--type must be one of \(ModelConverter.Target.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let requantization = MergeRequantization(rawValue: requantizeName) else {
            throw CLIError.usage("--requantize must be one of \(MergeRequantization.allCases.map(\.rawValue).joined(separator: ", ")), not '\(requantizeName)'")
        }
        guard seed >= 0 else { throw CLIError.usage("--seed must be a non-negative integer, not \(seed)") }
        print(try ModelConverter.merge(base: base, adapter: adapter, output: output, target: target, tokenizerPath: tokenizer,
                                       requantization: requantization, seed: UInt64(seed)))
    }
}
