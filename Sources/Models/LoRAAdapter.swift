import Tensor

/// A LoRA adapter: its configuration, the base model it belongs to, and for every adapted module
/// the factors A [r, in] and B [out, r] (float32). The adapted layer computes
/// `y = W x + scaling * B (A x)`.
///
/// All factors live in one `ParameterStore` (entries `<module>.lora_A.weight` and
/// `<module>.lora_B.weight`, module by module), so gradients and optimizer moments of exactly the
/// adapter's parameters are `parameters.makeSibling()` and an `AdamW(parameters:)` over it.
public final class LoRAAdapter: @unchecked Sendable {
    public let config: LoRAConfig
    public let base: LoRABaseModel
    /// Adapted modules in store order.
    public let modules: [LoRAModule]
    /// The factors of every module.
    public let parameters: ParameterStore
    private let index: [String: Int]

    /// An adapter with all factors zero (to be filled by a loader or by `initialize(rng:)`).
    public init(config: LoRAConfig, base: LoRABaseModel) throws {
        try config.validate()
        let modules = try base.modules(for: config)
        guard !modules.isEmpty else {
            throw LoRAError.invalidConfig(source: "LoRA config", key: "target_modules", reason: "selects no module of the base model")
        }
        self.config = config
        self.base = base
        self.modules = modules
        parameters = ParameterStore(layout: modules.flatMap { m in
            [(m.aName, [config.rank, m.inFeatures]), (m.bName, [m.outFeatures, config.rank])]
        })
        index = Dictionary(uniqueKeysWithValues: modules.enumerated().map { ($1.path, $0) })
    }

    /// A freshly initialised adapter as PEFT makes it: A Kaiming-uniform, B zero (so the adapted model
    /// starts equal to the base).
    public convenience init(config: LoRAConfig, base: LoRABaseModel, rng: inout RandomGenerator) throws {
        try self.init(config: config, base: base)
        initialize(rng: &rng)
    }

    /// Re-initialises every module: A ~ U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's kaiming_uniform_ with
    /// a = sqrt(5), PEFT's default), B = 0. Modules draw from one generator in store order.
    public func initialize(rng: inout RandomGenerator) {
        for m in modules {
            let bound = 1 / Float(m.inFeatures).squareRoot()
            rng.fillUniform(a(m).buffer, low: -bound, high: bound)
            b(m).zero()
        }
    }

    /// The scaling applied to B A (alpha / r, or alpha / sqrt(r) with rsLoRA).
    public var scaling: Float { config.scaling }

    /// Number of trainable adapter parameters.
    public var parameterCount: Int { parameters.parameterCount }

    /// The module with Hugging Face path `path` (e.g. "model.layers.0.self_attn.q_proj"), if adapted.
    public func module(named path: String) -> LoRAModule? { index[path].map { modules[$0] } }

    /// Factor A [r, in] of `module` (a view into `parameters`).
    public func a(_ module: LoRAModule) -> Tensor { parameters[module.aName] }

    /// Factor B [out, r] of `module` (a view into `parameters`).
    public func b(_ module: LoRAModule) -> Tensor { parameters[module.bName] }

    /// Checks that this adapter fits `model`: the same architecture, every module present with the
    /// same shape, and factors of rank r.
    public func validate(against model: LoRABaseModel) throws {
        guard model.architecture == base.architecture else {
            throw LoRAError.incompatibleBase("the adapter is for a \(base.architecture) model, the base is \(model.architecture)")
        }
        let known = Dictionary(uniqueKeysWithValues: model.allModules.map { ($0.path, $0) })
        for m in modules {
            guard let k = known[m.path] else { throw LoRAError.incompatibleBase("the base model has no module \(m.path)") }
            guard k.inFeatures == m.inFeatures, k.outFeatures == m.outFeatures else {
                throw LoRAError.incompatibleBase("\(m.path) is [\(k.outFeatures), \(k.inFeatures)] in the base model, [\(m.outFeatures), \(m.inFeatures)] in the adapter")
            }
            guard a(m).shape == [config.rank, m.inFeatures], b(m).shape == [m.outFeatures, config.rank] else {
                throw LoRAError.incompatibleBase("\(m.path): factors \(a(m).shape) and \(b(m).shape) do not have rank \(config.rank)")
            }
        }
        if case .gpt2(let c) = model, let m = modules.first(where: { c.lowRankRanks[$0.path] != nil }) {
            throw LoRAError.incompatibleBase("\(m.path) is a factorised (low-rank) layer of the base model")
        }
    }
}
