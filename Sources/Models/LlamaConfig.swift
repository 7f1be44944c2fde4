import Foundation
import NN

/// LLaMA-family hyper-parameters (SmolLM2, Llama 2/3, ...). Coding keys follow Hugging Face's
/// `config.json` for `LlamaForCausalLM`.
public struct LlamaConfig: Codable, Equatable, Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var contextLength: Int
    public var rmsNormEpsilon: Float
    public var ropeTheta: Float
    public var tieWordEmbeddings: Bool
    public var headDimOverride: Int?
    /// Ranks of the block linear layers that are factorised (FinGPT-HPC low-rank), keyed by module
    /// name (`model.layers.0.self_attn.q_proj`); absent modules are dense.
    public var lowRankRanks: [String: Int] = [:]

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layers = "num_hidden_layers"
        case heads = "num_attention_heads"
        case kvHeads = "num_key_value_heads"
        case contextLength = "max_position_embeddings"
        case rmsNormEpsilon = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case tieWordEmbeddings = "tie_word_embeddings"
        case headDimOverride = "head_dim"
        case lowRankRanks = "low_rank_ranks"
    }

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int, kvHeads: Int,
                contextLength: Int, rmsNormEpsilon: Float = 1e-5, ropeTheta: Float = 10000, tieWordEmbeddings: Bool = true,
                headDim: Int? = nil) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.intermediateSize = intermediateSize
        self.layers = layers; self.heads = heads; self.kvHeads = kvHeads; self.contextLength = contextLength
        self.rmsNormEpsilon = rmsNormEpsilon; self.ropeTheta = ropeTheta; self.tieWordEmbeddings = tieWordEmbeddings
        self.headDimOverride = headDim
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        kvHeads = try c.decodeIfPresent(Int.self, forKey: .kvHeads) ?? heads
        contextLength = try c.decodeIfPresent(Int.self, forKey: .contextLength) ?? 2048
        rmsNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .rmsNormEpsilon) ?? 1e-5
        ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10000
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        headDimOverride = try c.decodeIfPresent(Int.self, forKey: .headDimOverride)
        lowRankRanks = try c.decodeIfPresent([String: Int].self, forKey: .lowRankRanks) ?? [:]
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads)
        try c.encode(kvHeads, forKey: .kvHeads)
        try c.encode(contextLength, forKey: .contextLength)
        try c.encode(rmsNormEpsilon, forKey: .rmsNormEpsilon)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(headDimOverride, forKey: .headDimOverride)
        if !lowRankRanks.isEmpty { try c.encode(lowRankRanks, forKey: .lowRankRanks) }
    }

    public var headDim: Int { headDimOverride ?? hiddenSize / heads }
    public var qDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }

    public func validate(source: String = "config") throws {
        func bad(_ m: String) -> ModelError { .invalidConfig("\(source): \(m)") }
        for (name, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                          ("num_hidden_layers", layers), ("num_attention_heads", heads), ("num_key_value_heads", kvHeads),
                          ("max_position_embeddings", contextLength)] where v <= 0 {
            throw bad("\(name) must be positive, got \(v)")
        }
        guard heads % kvHeads == 0 else { throw bad("num_attention_heads (\(heads)) must be a multiple of num_key_value_heads (\(kvHeads))") }
        guard headDim > 0, headDim % 2 == 0 else { throw bad("head dimension \(headDim) must be positive and even for rotary embeddings") }
        guard headDimOverride != nil || hiddenSize % heads == 0 else { throw bad("hidden_size (\(hiddenSize)) must be a multiple of num_attention_heads (\(heads))") }
        guard rmsNormEpsilon > 0, ropeTheta > 0 else { throw bad("rms_norm_eps and rope_theta must be positive") }
        let modules = Dictionary(uniqueKeysWithValues: linearModules.map { ($0.name, $0) })
        for (name, r) in lowRankRanks {
            guard let m = modules[name] else { throw bad("low_rank_ranks names '\(name)', which is not a linear module of this model") }
            guard r > 0, r <= min(m.inFeatures, m.outFeatures) else {
                throw bad("rank \(r) of \(name) must be in 1...\(min(m.inFeatures, m.outFeatures)) (the layer is \(m.outFeatures) x \(m.inFeatures))")
            }
        }
    }

    /// The linear modules of the transformer blocks: (Hugging Face module name, kind, in, out).
    public var linearModules: [(name: String, kind: LowRankPlan.LayerKind, inFeatures: Int, outFeatures: Int)] {
        let c = hiddenSize
        return (0..<layers).flatMap { l -> [(name: String, kind: LowRankPlan.LayerKind, inFeatures: Int, outFeatures: Int)] in
            let a = "model.layers.\(l).self_attn.", m = "model.layers.\(l).mlp."
            return [(a + "q_proj", .qkv, c, qDim), (a + "k_proj", .qkv, c, kvDim), (a + "v_proj", .qkv, c, kvDim),
                    (a + "o_proj", .attentionOutput, qDim, c), (m + "gate_proj", .mlpUp, c, intermediateSize),
                    (m + "up_proj", .mlpUp, c, intermediateSize), (m + "down_proj", .mlpDown, intermediateSize, c)]
        }
    }

    /// This config with every block linear factorised as `plan` says (absolute or fractional ranks;
    /// energy thresholds need the pretrained matrices, see `LowRankFactorizer`).
    public func withLowRank(_ plan: LowRankPlan) throws -> LlamaConfig {
        var out = self
        out.lowRankRanks = [:]
        for m in linearModules {
            if let r = try plan.rank(for: m.kind, layer: m.name, in: m.inFeatures, out: m.outFeatures) { out.lowRankRanks[m.name] = r }
        }
        return out
    }

    /// Parameters of the block linear layers if dense.
    public var denseLinearParameterCount: Int { linearModules.reduce(0) { $0 + $1.inFeatures * $1.outFeatures } }

    /// Parameters of the block linear layers, factorised where configured.
    public var linearParameterCount: Int {
        linearModules.reduce(0) { acc, m in acc + (lowRankRanks[m.name].map { $0 * (m.inFeatures + m.outFeatures) } ?? m.inFeatures * m.outFeatures) }
    }

    /// Parameters, counting a tied output head once (factorised layers as their factors).
    public var parameterCount: Int {
        let c = hiddenSize
        return vocabSize * c * (tieWordEmbeddings ? 1 : 2) + layers * 2 * c + c + linearParameterCount
    }

    /// Training FLOPs per token (forward + backward = 3x forward) at sequence length `seq`, counting
    /// every matrix product including attention scores and the output head.
    public func trainingFlopsPerToken(seq: Int) -> Double {
        let matmul = Double(linearParameterCount) + Double(vocabSize * hiddenSize)
        let attention = Double(layers) * 2 * Double(seq) * Double(qDim)
        return 3 * 2 * (matmul + attention)
    }

    /// SmolLM2-135M's shape, for tests and presets.
    public static let smolLM2_135M = LlamaConfig(vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, layers: 30, heads: 9,
                                                 kvHeads: 3, contextLength: 8192, rmsNormEpsilon: 1e-5, ropeTheta: 100000,
                                                 tieWordEmbeddings: true)
}
