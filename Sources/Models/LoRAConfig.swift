import Foundation

/// LoRA hyper-parameters: rank r, alpha, dropout, rsLoRA scaling and the module kinds adapted.
///
/// Encodes to and decodes from PEFT's `adapter_config.json` (`peft_type` "LORA", `r`, `lora_alpha`,
/// `lora_dropout`, `use_rslora`, `target_modules`, `layers_to_transform`, `bias` "none", `task_type`
/// "CAUSAL_LM", `base_model_name_or_path`, `fan_in_fan_out`). GPT-2's Hugging Face layers are Conv1D
/// with weights stored [in, out], so PEFT wants `fan_in_fan_out: true` for them; the factors
/// themselves have the same shapes as for nn.Linear (A [r, in], B [out, r]) and this config writes
/// the flag from the target kinds. On reading the flag is ignored (PEFT corrects it per layer type too).
/// PEFT features this toolkit does not implement (DoRA, per-module rank or alpha patterns, trained
/// biases, extra saved modules, regular-expression targets) are rejected with an error.
public struct LoRAConfig: Codable, Equatable, Sendable {
    /// Rank r of the update B A.
    public var rank: Int
    /// Scale numerator: the update is (alpha / r) B A, or (alpha / sqrt(r)) B A with rsLoRA.
    public var alpha: Float
    /// Dropout probability applied to the adapter's input during training.
    public var dropout: Float
    /// Rank-stabilised scaling alpha / sqrt(r) instead of alpha / r.
    public var useRSLoRA: Bool
    /// Module kinds adapted, in order, without duplicates.
    public var targets: [LoRATarget]
    /// Blocks adapted (PEFT's `layers_to_transform`); nil = every block.
    public var layers: [Int]?
    /// The base model's name or path, recorded for PEFT and llama.cpp's converter.
    public var baseModelNameOrPath: String?

    public init(rank: Int, alpha: Float, dropout: Float = 0, useRSLoRA: Bool = false, targets: [LoRATarget],
                layers: [Int]? = nil, baseModelNameOrPath: String? = nil) throws {
        self.rank = rank; self.alpha = alpha; self.dropout = dropout; self.useRSLoRA = useRSLoRA
        self.targets = targets.reduce(into: []) { acc, t in if !acc.contains(t) { acc.append(t) } }
        self.layers = layers; self.baseModelNameOrPath = baseModelNameOrPath
        try validate()
    }

    /// The factor the product B A is multiplied by.
    public var scaling: Float { useRSLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    /// PEFT's `fan_in_fan_out`: true for GPT-2's Conv1D layers.
    public var fanInFanOut: Bool { targets.contains { $0.architecture == "gpt2" } }

    /// Checks ranges: r > 0, finite alpha, dropout in [0, 1), distinct targets of one architecture,
    /// distinct non-negative layers.
    public func validate(source: String = "LoRA config") throws {
        func bad(_ key: String, _ reason: String) -> LoRAError { .invalidConfig(source: source, key: key, reason: reason) }
        guard rank > 0 else { throw bad("r", "the rank must be positive, got \(rank)") }
        guard alpha.isFinite else { throw bad("lora_alpha", "must be a finite number, got \(alpha)") }
        guard dropout >= 0, dropout < 1 else { throw bad("lora_dropout", "must be in [0, 1), got \(dropout)") }
        guard let first = targets.first else { throw bad("target_modules", "no module kinds are targeted") }
        if let other = targets.first(where: { $0.architecture != first.architecture }) {
            throw bad("target_modules", "mixes \(first.architecture) ('\(first.peftName)') and \(other.architecture) ('\(other.peftName)') modules")
        }
        guard Set(targets).count == targets.count else { throw bad("target_modules", "lists a module kind twice") }
        if let layers, layers.isEmpty || layers.contains(where: { $0 < 0 }) || Set(layers).count != layers.count {
            throw bad("layers_to_transform", "must list distinct non-negative block indices, got \(layers)")
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case peftType = "peft_type", rank = "r", alpha = "lora_alpha", dropout = "lora_dropout", useRSLoRA = "use_rslora"
        case targets = "target_modules", layers = "layers_to_transform", bias, taskType = "task_type"
        case baseModel = "base_model_name_or_path", fanInFanOut = "fan_in_fan_out", inferenceMode = "inference_mode"
        case useDoRA = "use_dora", loraBias = "lora_bias", rankPattern = "rank_pattern", alphaPattern = "alpha_pattern"
        case modulesToSave = "modules_to_save", initLoraWeights = "init_lora_weights"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("LORA", forKey: .peftType)
        try c.encode("CAUSAL_LM", forKey: .taskType)
        try c.encode(rank, forKey: .rank)
        try c.encode(alpha, forKey: .alpha)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(useRSLoRA, forKey: .useRSLoRA)
        try c.encode(targets.map(\.peftName), forKey: .targets)
        if let layers { try c.encode(layers, forKey: .layers) } else { try c.encodeNil(forKey: .layers) }
        try c.encode("none", forKey: .bias)
        if let baseModelNameOrPath { try c.encode(baseModelNameOrPath, forKey: .baseModel) } else { try c.encodeNil(forKey: .baseModel) }
        try c.encode(fanInFanOut, forKey: .fanInFanOut)
        try c.encode(true, forKey: .inferenceMode)
        try c.encode(true, forKey: .initLoraWeights)
        try c.encode(false, forKey: .useDoRA)
        try c.encode(false, forKey: .loraBias)
        try c.encode([String: Int](), forKey: .rankPattern)
        try c.encode([String: Float](), forKey: .alphaPattern)
        try c.encodeNil(forKey: .modulesToSave)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func reject(_ key: CodingKeys, _ reason: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: c, debugDescription: reason)
        }
        let type = try c.decode(String.self, forKey: .peftType)
        guard type == "LORA" else { throw reject(.peftType, "'\(type)' is not a LoRA adapter (expected \"LORA\")") }
        rank = try c.decode(Int.self, forKey: .rank)
        alpha = try c.decode(Float.self, forKey: .alpha)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        useRSLoRA = try c.decodeIfPresent(Bool.self, forKey: .useRSLoRA) ?? false
        baseModelNameOrPath = try c.decodeIfPresent(String.self, forKey: .baseModel)
        if let bias = try c.decodeIfPresent(String.self, forKey: .bias), bias != "none" {
            throw reject(.bias, "'\(bias)': only \"none\" (no trained biases) is supported")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .useDoRA) == true { throw reject(.useDoRA, "DoRA adapters are not supported") }
        if try c.decodeIfPresent(Bool.self, forKey: .loraBias) == true { throw reject(.loraBias, "LoRA biases are not supported") }
        for key in [CodingKeys.rankPattern, .alphaPattern] {
            if let pattern = try c.decodeIfPresent([String: Double].self, forKey: key), !pattern.isEmpty {
                throw reject(key, "per-module patterns are not supported (every module must use r and lora_alpha)")
            }
        }
        if let saved = try c.decodeIfPresent([String].self, forKey: .modulesToSave), !saved.isEmpty {
            throw reject(.modulesToSave, "fully trained extra modules \(saved) are not supported")
        }
        if let one = try? c.decodeIfPresent(Int.self, forKey: .layers) {
            layers = [one]
        } else {
            layers = try c.decodeIfPresent([Int].self, forKey: .layers)
        }
        let names: [String]
        if let list = try? c.decode([String].self, forKey: .targets) {
            names = list
        } else {
            let single = try c.decode(String.self, forKey: .targets)
            guard single.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else {
                throw reject(.targets, "'\(single)' is a regular expression; list the module names instead")
            }
            names = [single]
        }
        var targets: [LoRATarget] = []
        for name in names {
            let found = LoRATarget.matching(peftName: name)
            guard !found.isEmpty else {
                throw reject(.targets, "'\(name)' is not an adaptable module (known: \(LoRATarget.allCases.map(\.peftName).joined(separator: ", ")))")
            }
            for t in found where !targets.contains(t) { targets.append(t) }
        }
        self.targets = targets
        do { try validate() } catch let LoRAError.invalidConfig(_, key, reason) {
            throw reject(CodingKeys.allCases.first { $0.stringValue == key } ?? .targets, reason)
        }
    }
}
