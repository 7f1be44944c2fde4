import Foundation
import NN

/// The hyper-parameters of any trainable architecture, as checkpoints store them: the architecture
/// name ("gpt2", "llama") beside that architecture's own config JSON.
public enum ModelConfiguration: Equatable, Sendable {
    case gpt2(GPT2Config)
    case llama(LlamaConfig)

    public static let architectures = ["gpt2", "llama"]

    public var architecture: String {
        switch self {
        case .gpt2: return "gpt2"
        case .llama: return "llama"
        }
    }

    /// Decodes the config JSON of `architecture`; unknown architectures are an error naming `source`.
    public init(architecture: String, json: Data, source: String) throws {
        do {
            switch architecture {
            case "gpt2": self = .gpt2(try JSONDecoder().decode(GPT2Config.self, from: json))
            case "llama": self = .llama(try JSONDecoder().decode(LlamaConfig.self, from: json))
            default:
                throw ModelError.invalidConfig("\(source): unknown architecture '\(architecture)' (known: \(ModelConfiguration.architectures.joined(separator: ", ")))")
            }
        } catch let e as ModelError {
            throw e
        } catch {
            throw ModelError.invalidConfig("\(source): the \(architecture) config is not valid (\(error))")
        }
        try validate(source: source)
    }

    /// The config as JSON (sorted keys).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        switch self {
        case .gpt2(let c): return try encoder.encode(c)
        case .llama(let c): return try encoder.encode(c)
        }
    }

    public func validate(source: String = "config") throws {
        switch self {
        case .gpt2(let c): try c.validate(source: source)
        case .llama(let c): try c.validate(source: source)
        }
    }

    public var contextLength: Int {
        switch self {
        case .gpt2(let c): return c.contextLength
        case .llama(let c): return c.contextLength
        }
    }

    public var vocabularySize: Int {
        switch self {
        case .gpt2(let c): return c.vocabSize
        case .llama(let c): return c.vocabSize
        }
    }

    public var lowRankRanks: [String: Int] {
        switch self {
        case .gpt2(let c): return c.lowRankRanks
        case .llama(let c): return c.lowRankRanks
        }
    }

    public var linearModules: [(name: String, kind: LowRankPlan.LayerKind, inFeatures: Int, outFeatures: Int)] {
        switch self {
        case .gpt2(let c): return c.linearModules
        case .llama(let c): return c.linearModules
        }
    }

    /// The same architecture with these block linears factorised (and the rest dense).
    public func withLowRankRanks(_ ranks: [String: Int]) throws -> ModelConfiguration {
        var out = self
        switch self {
        case .gpt2(var c): c.lowRankRanks = ranks; out = .gpt2(c)
        case .llama(var c): c.lowRankRanks = ranks; out = .llama(c)
        }
        try out.validate()
        return out
    }

    /// This config with ranks from `plan` (absolute or fractional; energy thresholds need weights).
    public func withLowRank(_ plan: LowRankPlan) throws -> ModelConfiguration {
        switch self {
        case .gpt2(let c): return .gpt2(try c.withLowRank(plan))
        case .llama(let c): return .llama(try c.withLowRank(plan))
        }
    }

    public var parameterCount: Int {
        switch self {
        case .gpt2(let c): return c.parameterCount
        case .llama(let c): return c.parameterCount
        }
    }

    /// Weights of the block linear layers if dense, and as configured (factorised where set).
    public var linearWeightCounts: (dense: Int, actual: Int) {
        let dense = linearModules.reduce(0) { $0 + $1.inFeatures * $1.outFeatures }
        let ranks = lowRankRanks
        let actual = linearModules.reduce(0) { acc, m in acc + (ranks[m.name].map { $0 * (m.inFeatures + m.outFeatures) } ?? m.inFeatures * m.outFeatures) }
        return (dense, actual)
    }

    public func trainingFlopsPerToken(seq: Int) -> Double {
        switch self {
        case .gpt2(let c): return c.trainingFlopsPerToken(seq: seq)
        case .llama(let c): return c.trainingFlopsPerToken(seq: seq)
        }
    }

    /// One line for logs and plot titles, e.g. "LLaMA 30L/576d, 134.52M parameters".
    public var summary: String {
        let low = lowRankRanks.isEmpty ? "" : ", \(lowRankRanks.count) low-rank layers"
        switch self {
        case .gpt2(let c):
            return String(format: "GPT-2 %dL/%dd, %.2fM parameters%@", c.layers, c.embeddingSize, Double(c.parameterCount) / 1e6, low)
        case .llama(let c):
            return String(format: "LLaMA %dL/%dd, %.2fM parameters%@", c.layers, c.hiddenSize, Double(c.parameterCount) / 1e6, low)
        }
    }

    /// LLaMA presets: SmolLM2-135M's shape and small models for tests and quick runs.
    public static let llamaPresets: [String: LlamaConfig] = [
        "smollm2-135m": .smolLM2_135M,
        "llama-small": LlamaConfig(vocabSize: 49152, hiddenSize: 384, intermediateSize: 1024, layers: 6, heads: 6, kvHeads: 2,
                                   contextLength: 1024, ropeTheta: 10000, tieWordEmbeddings: true),
        "llama-mini": LlamaConfig(vocabSize: 49152, hiddenSize: 256, intermediateSize: 688, layers: 4, heads: 4, kvHeads: 2,
                                  contextLength: 256, ropeTheta: 10000, tieWordEmbeddings: true),
    ]

    /// Every preset name: GPT-2 (`gpt2`, `small`, `mini`, `tiny`, ...) and LLaMA (`smollm2-135m`, `llama-mini`, ...).
    public static var presetNames: [String] { (Array(GPT2Config.presets.keys) + Array(llamaPresets.keys)).sorted() }

    /// A preset by name, or a config.json: a LLaMA config when it says so (`model_type` "llama" or
    /// LlamaForCausalLM), otherwise GPT-2's keys.
    public static func load(presetOrPath: String) throws -> ModelConfiguration {
        if let p = GPT2Config.presets[presetOrPath] { return .gpt2(p) }
        if let p = llamaPresets[presetOrPath] { return .llama(p) }
        guard FileManager.default.fileExists(atPath: presetOrPath) else {
            throw ModelError.invalidConfig("'\(presetOrPath)' is neither a preset (\(presetNames.joined(separator: ", "))) nor an existing config file")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: presetOrPath)) } catch {
            throw ModelError.invalidConfig("\(presetOrPath): cannot be read (\(error.localizedDescription))")
        }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard let object else { throw ModelError.invalidConfig("\(presetOrPath): not a JSON object") }
        let type = (object["model_type"] as? String) ?? ""
        let archs = (object["architectures"] as? [String]) ?? []
        if type == "llama" || archs.contains("LlamaForCausalLM") || object["hidden_size"] != nil {
            return try ModelConfiguration(architecture: "llama", json: data, source: presetOrPath)
        }
        return .gpt2(try GPT2Config.load(presetOrPath: presetOrPath))
    }

    /// This config with another vocabulary size and (optionally) context length.
    public func with(vocabularySize: Int, contextLength: Int?) -> ModelConfiguration {
        switch self {
        case .gpt2(var c):
            c.vocabSize = vocabularySize
            if let contextLength { c.contextLength = contextLength }
            return .gpt2(c)
        case .llama(var c):
            c.vocabSize = vocabularySize
            if let contextLength { c.contextLength = contextLength }
            return .llama(c)
        }
    }

    /// An untrained model of this configuration (zero weights), or with the architecture's random
    /// initialisation when `seed` is given.
    public func makeModel(seed: UInt64? = nil, recompute: Bool = false) throws -> TrainableLanguageModel {
        switch self {
        case .gpt2(let c): return try seed.map { try GPT2Model(config: c, seed: $0, recompute: recompute) } ?? GPT2Model(config: c, recompute: recompute)
        case .llama(let c): return try seed.map { try LlamaModel(config: c, seed: $0, recompute: recompute) } ?? LlamaModel(config: c, recompute: recompute)
        }
    }
}
