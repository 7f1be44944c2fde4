import Foundation
import IO
import Quantization
import Tensor

/// Writes a LoRA adapter as a GGUF LoRA file that llama.cpp loads with `--lora` on top of the base
/// model's GGUF, with the conventions of llama.cpp's convert_lora_to_gguf.py:
///
/// - metadata `general.type` = "adapter", `general.architecture` = the base's ("llama", "gpt2"),
///   `adapter.type` = "lora", `adapter.lora.alpha` (float32);
/// - per module, `<GGUF weight name>.lora_a` with PyTorch shape [r, in] and `.lora_b` with [out, r]
///   (e.g. `blk.0.attn_q.weight.lora_a`), in F32 or F16;
/// - B of LLaMA's q and k projections has its rows permuted like the base weights (llama.cpp stores
///   q/k rows in adjacent-pair rotary order, see `TensorNameMapping`).
///
/// llama.cpp scales the update by alpha / r, where r is the stored rank. An rsLoRA adapter (scale
/// alpha / sqrt(r)) is therefore written with alpha' = scaling * r, which gives the same update.
public enum LoRAGGUFExporter {
    public static let supportedTypes: [GGMLType] = [.f32, .f16]

    /// The base-model GGUF tensor a module adapts (e.g. `blk.3.attn_k.weight`).
    public static func ggufWeightName(_ module: LoRAModule, base: LoRABaseModel) throws -> String {
        let name: String?
        switch base {
        case .llama: name = TensorNameMapping.ggufName(forLlama: module.weightName)
        case .gpt2: name = TensorNameMapping.ggufName(forGPT2: module.weightName)
        }
        guard let name else { throw LoRAError.incompatibleBase("\(module.weightName) has no GGUF name") }
        return name
    }

    /// The `adapter.lora.alpha` value that makes llama.cpp's alpha / r equal the adapter's scaling.
    public static func ggufAlpha(_ config: LoRAConfig) -> Float { config.scaling * Float(config.rank) }

    /// Writes `adapter` to `path` atomically with factors encoded as `type` (F32 or F16).
    public static func write(_ adapter: LoRAAdapter, to path: String, type: GGMLType = .f32, name: String? = nil) throws {
        guard supportedTypes.contains(type) else {
            throw ModelError.invalidInput("GGUF LoRA export supports \(supportedTypes.map(\.description).joined(separator: ", ")), not \(type)")
        }
        var w = try GGUFWriter()
        w.setValue(.string(adapter.base.architecture), forKey: "general.architecture")
        w.setValue(.string("adapter"), forKey: "general.type")
        if let name { w.setValue(.string(name), forKey: "general.name") }
        w.setValue(.uint32(type == .f16 ? 1 : 0), forKey: "general.file_type")
        w.setValue(.string("lora"), forKey: "adapter.type")
        w.setValue(.float32(ggufAlpha(adapter.config)), forKey: "adapter.lora.alpha")
        for m in adapter.modules {
            let weight = try ggufWeightName(m, base: adapter.base)
            try w.addTensor(weight + ".lora_a", adapter.a(m), as: type)
            try w.addTensor(weight + ".lora_b", ggufB(adapter, m), as: type)
        }
        try w.write(to: path)
    }

    /// B in the row order of the GGUF base weight.
    static func ggufB(_ adapter: LoRAAdapter, _ m: LoRAModule) -> Tensor {
        let b = adapter.b(m)
        guard case .llama(let config) = adapter.base, m.target == .query || m.target == .key else { return b }
        let permuted = Tensor(zeros: b.shape)
        TensorNameMapping.permuteRotaryRows(b.pointer, permuted.pointer, rows: m.outFeatures, rowBytes: adapter.config.rank * 4,
                                            headDim: config.headDim, toHuggingFace: false)
        return permuted
    }
}
