import Foundation
import NN

/// GPT-2 architecture hyper-parameters. Coding keys follow Hugging Face's GPT-2 `config.json`.
public struct GPT2Config: Codable, Equatable, Sendable {
    public var vocabSize: Int
    public var contextLength: Int
    public var layers: Int
    public var heads: Int
    public var embeddingSize: Int
    public var layerNormEpsilon: Float
    /// Linear modules replaced by two narrow layers (A [r, in] then B [out, r]), by module name
    /// (e.g. "transformer.h.0.attn.c_attn") -> rank r. Empty = a dense model.
    public var lowRankRanks: [String: Int] = [:]

    enum CodingKeys: String, CodingKey {
        case lowRankRanks = "low_rank_ranks"
        case vocabSize = "vocab_size"
        case contextLength = "n_positions"
        case layers = "n_layer"
        case heads = "n_head"
        case embeddingSize = "n_embd"
        case layerNormEpsilon = "layer_norm_epsilon"
    }

    public init(vocabSize: Int, contextLength: Int, layers: Int, heads: Int, embeddingSize: Int, layerNormEpsilon: Float = 1e-5) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.layers = layers
        self.heads = heads
        self.embeddingSize = embeddingSize
        self.layerNormEpsilon = layerNormEpsilon
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        contextLength = try c.decode(Int.self, forKey: .contextLength)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        embeddingSize = try c.decode(Int.self, forKey: .embeddingSize)
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5
        lowRankRanks = try c.decodeIfPresent([String: Int].self, forKey: .lowRankRanks) ?? [:]
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(contextLength, forKey: .contextLength)
        try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads)
        try c.encode(embeddingSize, forKey: .embeddingSize)
        try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        if !lowRankRanks.isEmpty { try c.encode(lowRankRanks, forKey: .lowRankRanks) }
    }

    /// The linear modules of the transformer blocks: (module name, kind, in, out).
    public var linearModules: [(name: String, kind: LowRankPlan.LayerKind, inFeatures: Int, outFeatures: Int)] {
        let c = embeddingSize
        return (0..<layers).flatMap { l -> [(name: String, kind: LowRankPlan.LayerKind, inFeatures: Int, outFeatures: Int)] in
            let p = "transformer.h.\(l)."
            return [(p + "attn.c_attn", .qkv, c, 3 * c), (p + "attn.c_proj", .attentionOutput, c, c),
                    (p + "mlp.c_fc", .mlpUp, c, 4 * c), (p + "mlp.c_proj", .mlpDown, 4 * c, c)]
        }
    }

    /// This config with every block linear factorised as `plan` says (absolute or fractional ranks;
    /// energy thresholds need a pretrained matrix, see `LowRankFactorizer`).
    public func withLowRank(_ plan: LowRankPlan) throws -> GPT2Config {
        var out = self
        out.lowRankRanks = [:]
        for m in linearModules {
            if let r = try plan.rank(for: m.kind, layer: m.name, in: m.inFeatures, out: m.outFeatures) { out.lowRankRanks[m.name] = r }
        }
        return out
    }

    /// Named presets: `gpt2` is the 124M model; the others are small models for tests and quick runs.
    public static let presets: [String: GPT2Config] = [
        "gpt2": GPT2Config(vocabSize: 50257, contextLength: 1024, layers: 12, heads: 12, embeddingSize: 768),
        "gpt2-medium": GPT2Config(vocabSize: 50257, contextLength: 1024, layers: 24, heads: 16, embeddingSize: 1024),
        "small": GPT2Config(vocabSize: 50257, contextLength: 1024, layers: 6, heads: 6, embeddingSize: 384),
        "mini": GPT2Config(vocabSize: 50257, contextLength: 256, layers: 4, heads: 4, embeddingSize: 256),
        "tiny": GPT2Config(vocabSize: 50257, contextLength: 128, layers: 2, heads: 2, embeddingSize: 64),
    ]

    /// A preset by name, or a config read from a JSON file (Hugging Face `config.json` keys).
    public static func load(presetOrPath: String) throws -> GPT2Config {
        if let p = presets[presetOrPath] { return p }
        let url = URL(fileURLWithPath: presetOrPath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError.invalidConfig("'\(presetOrPath)' is neither a preset (\(presets.keys.sorted().joined(separator: ", "))) nor an existing config file")
        }
        let data = try Data(contentsOf: url)
        let config: GPT2Config
        do {
            config = try JSONDecoder().decode(GPT2Config.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelError.invalidConfig("\(url.path): missing key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ModelError.invalidConfig("\(url.path): wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw ModelError.invalidConfig("\(url.path): not a valid JSON config (\(error.localizedDescription))")
        }
        try config.validate(source: url.path)
        return config
    }

    public func validate(source: String = "config") throws {
        func bad(_ m: String) -> ModelError { .invalidConfig("\(source): \(m)") }
        guard vocabSize > 0 else { throw bad("vocab_size must be positive, got \(vocabSize)") }
        guard contextLength > 0 else { throw bad("n_positions must be positive, got \(contextLength)") }
        guard layers > 0 else { throw bad("n_layer must be positive, got \(layers)") }
        guard heads > 0 else { throw bad("n_head must be positive, got \(heads)") }
        guard embeddingSize > 0, embeddingSize % heads == 0 else {
            throw bad("n_embd (\(embeddingSize)) must be a positive multiple of n_head (\(heads))")
        }
        guard layerNormEpsilon > 0 else { throw bad("layer_norm_epsilon must be positive") }
        let modules = Dictionary(uniqueKeysWithValues: linearModules.map { ($0.name, $0) })
        for (name, r) in lowRankRanks {
            guard let m = modules[name] else { throw bad("low_rank_ranks names '\(name)', which is not a linear module of this model") }
            guard r > 0, r <= min(m.inFeatures, m.outFeatures) else {
                throw bad("rank \(r) of \(name) must be in 1...\(min(m.inFeatures, m.outFeatures)) (the layer is \(m.outFeatures) x \(m.inFeatures))")
            }
        }
    }

    public var headSize: Int { embeddingSize / heads }

    /// Parameters, counting the tied output head once.
    public var parameterCount: Int {
        let c = embeddingSize
        return vocabSize * c + contextLength * c + layers * 4 * c + 2 * c + linearParameterCount
    }

    /// Parameters the block linear layers would have if dense.
    public var denseLinearParameterCount: Int { linearModules.reduce(0) { $0 + $1.inFeatures * $1.outFeatures + $1.outFeatures } }

    /// Parameters of the block linear layers (weights and biases), factorised where configured.
    public var linearParameterCount: Int {
        linearModules.reduce(0) { acc, m in
            let w = lowRankRanks[m.name].map { $0 * (m.inFeatures + m.outFeatures) } ?? m.inFeatures * m.outFeatures
            return acc + w + m.outFeatures
        }
    }

    /// Training FLOPs per token (forward + backward = 3x forward) for sequence length `seq`, counting
    /// every matrix product including the attention scores and the output head.
    public func trainingFlopsPerToken(seq: Int) -> Double {
        let c = Double(embeddingSize), l = Double(layers), v = Double(vocabSize), t = Double(seq)
        let matmulParams = Double(linearModules.reduce(0) { acc, m in
            acc + (lowRankRanks[m.name].map { $0 * (m.inFeatures + m.outFeatures) } ?? m.inFeatures * m.outFeatures)
        }) + v * c
        let attention = l * 2 * t * c  // q.k and att.v per token over the full context (nanoGPT's MFU convention)
        return 3 * 2 * (matmulParams + attention)
    }
}
