import Foundation

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
    }

    /// Parameters, counting a tied output head once.
    public var parameterCount: Int {
        let c = hiddenSize
        let perLayer = 2 * c + c * qDim + 2 * c * kvDim + qDim * c + 3 * c * intermediateSize
        return vocabSize * c * (tieWordEmbeddings ? 1 : 2) + layers * perLayer + c
    }

    /// SmolLM2-135M's shape, for tests and presets.
    public static let smolLM2_135M = LlamaConfig(vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, layers: 30, heads: 9,
                                                 kvHeads: 3, contextLength: 8192, rmsNormEpsilon: 1e-5, ropeTheta: 100000,
                                                 tieWordEmbeddings: true)
}
