/// The model a LoRA adapter belongs to: which linear modules exist and their shapes.
public enum LoRABaseModel: Equatable, Sendable {
    case llama(LlamaConfig)
    case gpt2(GPT2Config)

    /// GGUF's `general.architecture` for this model ("llama" or "gpt2").
    public var architecture: String {
        switch self {
        case .llama: return "llama"
        case .gpt2: return "gpt2"
        }
    }

    public var layerCount: Int {
        switch self {
        case .llama(let c): return c.layers
        case .gpt2(let c): return c.layers
        }
    }

    /// The module of kind `target` in block `layer`, or nil when the architecture has no such module.
    public func module(_ target: LoRATarget, layer: Int) -> LoRAModule? {
        guard layer >= 0, layer < layerCount, target.architecture == architecture else { return nil }
        let shape: (in: Int, out: Int)
        let prefix: String
        switch self {
        case .llama(let c):
            prefix = "model.layers.\(layer)."
            switch target {
            case .query: shape = (c.hiddenSize, c.qDim)
            case .key, .value: shape = (c.hiddenSize, c.kvDim)
            case .output: shape = (c.qDim, c.hiddenSize)
            case .gate, .up: shape = (c.hiddenSize, c.intermediateSize)
            case .down: shape = (c.intermediateSize, c.hiddenSize)
            default: return nil
            }
        case .gpt2(let c):
            prefix = "transformer.h.\(layer)."
            let e = c.embeddingSize
            switch target {
            case .gpt2Attention: shape = (e, 3 * e)
            case .gpt2AttentionOutput: shape = (e, e)
            case .gpt2MLPUp: shape = (e, 4 * e)
            case .gpt2MLPOutput: shape = (4 * e, e)
            default: return nil
            }
        }
        return LoRAModule(path: prefix + target.blockPath, target: target, layer: layer, inFeatures: shape.in, outFeatures: shape.out)
    }

    /// Every adaptable linear module, block by block in `LoRATarget` order.
    public var allModules: [LoRAModule] {
        (0..<layerCount).flatMap { l in LoRATarget.allCases.compactMap { module($0, layer: l) } }
    }

    /// The modules `config` adapts, block by block in the config's target order. Throws when a target
    /// belongs to another architecture, a layer is out of range, or a GPT-2 layer is factorised.
    public func modules(for config: LoRAConfig) throws -> [LoRAModule] {
        let source = "LoRA config"
        for t in config.targets where t.architecture != architecture {
            let choices = LoRATarget.all(architecture: architecture).map(\.rawValue).joined(separator: ", ")
            throw LoRAError.invalidConfig(source: source, key: "target_modules",
                                          reason: "'\(t.peftName)' is a \(t.architecture) module but the base model is \(architecture) (its targets: \(choices))")
        }
        let layers = config.layers ?? Array(0..<layerCount)
        for l in layers where l < 0 || l >= layerCount {
            throw LoRAError.invalidConfig(source: source, key: "layers_to_transform", reason: "layer \(l) is outside 0..<\(layerCount)")
        }
        let modules = layers.sorted().flatMap { l in config.targets.compactMap { module($0, layer: l) } }
        if case .gpt2(let c) = self, let m = modules.first(where: { c.lowRankRanks[$0.path] != nil }) {
            throw LoRAError.incompatibleBase("\(m.path) is a factorised (low-rank) layer; LoRA needs dense base weights")
        }
        return modules
    }
}
