/// One linear layer that carries a LoRA adapter: its Hugging Face module path
/// (`model.layers.0.self_attn.q_proj`, `transformer.h.0.attn.c_attn`), kind, block and shape.
/// The adapter's factors are A [rank, inFeatures] and B [outFeatures, rank].
public struct LoRAModule: Equatable, Hashable, Sendable {
    public let path: String
    public let target: LoRATarget
    public let layer: Int
    public let inFeatures: Int
    public let outFeatures: Int

    public init(path: String, target: LoRATarget, layer: Int, inFeatures: Int, outFeatures: Int) {
        self.path = path; self.target = target; self.layer = layer
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
    }

    /// The base model's weight this module adapts (`<path>.weight`).
    public var weightName: String { path + ".weight" }
    /// Name of the A factor (`<path>.lora_A.weight`), also its key in PEFT files after the prefix.
    public var aName: String { path + ".lora_A.weight" }
    /// Name of the B factor (`<path>.lora_B.weight`).
    public var bName: String { path + ".lora_B.weight" }
}
