import Foundation
import NN
import Tensor

/// Inference for LLaMA-architecture models with a key/value cache. Weights are `LinearMap`s, so a
/// model can run from float32 tensors or directly from quantized storage (never expanded as a whole).
/// Feed the prompt with one `forward` call (prompt processing, matrix-matrix products), then one
/// token at a time (generation, matrix-vector products against the cache).
public final class LlamaRunner: @unchecked Sendable {
    /// One block's weights. q, k and v are stacked into one map ([q; k; v] rows, out = qDim + 2 kvDim)
    /// and gate and up into another ([gate; up], out = 2 intermediate), so each block input is read by
    /// two products instead of five (what matters for one-token generation).
    public struct Layer {
        public var attentionNorm: [Float]
        public var qkv, o: LinearMap
        public var mlpNorm: [Float]
        public var gateUp, down: LinearMap
        public init(attentionNorm: [Float], qkv: LinearMap, o: LinearMap, mlpNorm: [Float], gateUp: LinearMap, down: LinearMap) {
            self.attentionNorm = attentionNorm; self.qkv = qkv; self.o = o
            self.mlpNorm = mlpNorm; self.gateUp = gateUp; self.down = down
        }
    }

    public let config: LlamaConfig
    public let layers: [Layer]
    public let embedding: EmbeddingTable
    public let finalNorm: [Float]
    public let head: LinearMap
    public let maxContext: Int
    let rope: RotaryEmbedding
    let keyCache: [AlignedBuffer<Float>]
    let valueCache: [AlignedBuffer<Float>]
    /// Number of positions already in the cache.
    public private(set) var position = 0
    public var profiler: PhaseTimer?

    public init(config: LlamaConfig, layers: [Layer], embedding: EmbeddingTable, finalNorm: [Float], head: LinearMap,
                maxContext: Int? = nil) throws {
        try config.validate()
        guard layers.count == config.layers else {
            throw ModelError.invalidConfig("\(layers.count) layers given for a config of \(config.layers)")
        }
        let c = config.hiddenSize
        for (i, l) in layers.enumerated() {
            let shapes: [(String, LinearMap, Int, Int)] = [("qkv", l.qkv, config.qDim + 2 * config.kvDim, c), ("o", l.o, c, config.qDim),
                                                            ("gate/up", l.gateUp, 2 * config.intermediateSize, c), ("down", l.down, c, config.intermediateSize)]
            for (name, m, out, inp) in shapes where m.outFeatures != out || m.inFeatures != inp {
                throw ModelError.invalidConfig("layer \(i) \(name): weight is [\(m.outFeatures), \(m.inFeatures)], config needs [\(out), \(inp)]")
            }
            guard l.attentionNorm.count == c, l.mlpNorm.count == c else { throw ModelError.invalidConfig("layer \(i): norm width differs from hidden size \(c)") }
        }
        guard embedding.width == c, embedding.vocabularySize == config.vocabSize, head.inFeatures == c, head.outFeatures == config.vocabSize,
              finalNorm.count == c else {
            throw ModelError.invalidConfig("embedding, output head or final norm do not match vocab \(config.vocabSize) x hidden \(c)")
        }
        self.config = config
        self.layers = layers
        self.embedding = embedding
        self.finalNorm = finalNorm
        self.head = head
        let context = min(maxContext ?? config.contextLength, config.contextLength)
        self.maxContext = context
        rope = RotaryEmbedding(headDim: config.headDim, maxPositions: context, base: config.ropeTheta)
        attention = CachedAttention(heads: config.heads, kvHeads: config.kvHeads, headDim: config.headDim,
                                    ldq: config.qDim + 2 * config.kvDim, ldkv: config.kvDim, ldo: config.qDim)
        keyCache = (0..<config.layers).map { _ in AlignedBuffer<Float>(count: context * config.kvDim) }
        valueCache = (0..<config.layers).map { _ in AlignedBuffer<Float>(count: context * config.kvDim) }
    }

    /// A runner over a float32 training model's weights. Dense q/k/v and gate/up are stacked into one
    /// matrix each (copies); factorised layers run as their factors (`LowRankLinearMap`), so a
    /// low-rank model generates with its fewer FLOPs.
    public convenience init(model: LlamaModel, maxContext: Int? = nil) throws {
        let p = model.parameters, cfg = model.config
        func map(_ module: String) throws -> LinearMap {
            if cfg.lowRankRanks[module] != nil { return try LowRankLinearMap(a: p[module + ".A.weight"], b: p[module + ".B.weight"]) }
            return DenseLinearMap(weight: p[module + ".weight"])
        }
        func stacked(_ modules: [String]) throws -> LinearMap {
            guard modules.allSatisfy({ cfg.lowRankRanks[$0] == nil }) else { return try StackedLinearMap(modules.map(map)) }
            let parts = modules.map { p[$0 + ".weight"] }
            let out = Tensor(zeros: [parts.reduce(0) { $0 + $1.shape[0] }, parts[0].shape[1]])
            var offset = 0
            for t in parts { (out.pointer + offset).update(from: t.pointer, count: t.count); offset += t.count }
            return DenseLinearMap(weight: out)
        }
        let layers = try (0..<cfg.layers).map { l -> Layer in
            let n = "model.layers.\(l)."
            return Layer(attentionNorm: p[n + "input_layernorm.weight"].array,
                         qkv: try stacked([n + "self_attn.q_proj", n + "self_attn.k_proj", n + "self_attn.v_proj"]),
                         o: try map(n + "self_attn.o_proj"),
                         mlpNorm: p[n + "post_attention_layernorm.weight"].array,
                         gateUp: try stacked([n + "mlp.gate_proj", n + "mlp.up_proj"]),
                         down: try map(n + "mlp.down_proj"))
        }
        try self.init(config: cfg, layers: layers, embedding: DenseEmbeddingTable(weight: p["model.embed_tokens.weight"]),
                      finalNorm: p["model.norm.weight"].array, head: DenseLinearMap(weight: p[model.headName]), maxContext: maxContext)
    }

    /// Clears the cache (a new conversation).
    public func reset() { position = 0 }

    /// Drops cached positions beyond `count` (e.g. to reuse a shared prompt prefix).
    public func truncate(to count: Int) { position = min(position, max(0, count)) }

    /// Bytes held by weights that the runner references (quantized sizes for quantized maps).
    public var weightBytes: Int {
        let mats = layers.reduce(0) { $0 + [$1.qkv, $1.o, $1.gateUp, $1.down].reduce(0) { $0 + $1.storageBytes } }
        return mats + (head === (embedding as AnyObject) ? 0 : head.storageBytes)
    }

    @inline(__always)
    func timed(_ name: String, _ body: () -> Void) {
        if let profiler { profiler.measure(name, body) } else { body() }
    }

    /// Positions processed per pass over the weights; longer inputs go in chunks of this size, which
    /// bounds the activation memory (attention scores grow with chunk x context).
    public var maxChunk = 192
    /// Attention against the cache (new queries read from the stacked q/k/v rows, output [n, qDim]).
    public var attention: CachedAttention
    /// The quantized one-token path (nil when some weight has no integer kernel); built on first use.
    lazy var decodePlan: LlamaDecodePlan? = LlamaDecodePlan(runner: self)
    /// Whether one-token steps take the quantized path of `LlamaDecodePlan` when the weights allow it
    /// (false forces the general path, e.g. to compare the two).
    public var usesDecodePlan = true
    /// Whether every position is computed as a one-token step would compute it, so that logits do not
    /// depend on how tokens are grouped into calls (nor, in `LlamaBatchRunner`, on which sequences
    /// share a pass): products with Q4_0/Q4_1/Q8_0 weights take 8-bit activations for all rows (as
    /// `LlamaDecodePlan` does) instead of float tiles for inputs of more than `gemvMaxBatch` rows, and
    /// attention runs query by query. Then a sequence's logits are bit for bit the same however its
    /// tokens were fed, which makes evaluation results independent of batch size and example order.
    /// Float weights keep their matrix-matrix products (row results can differ in rounding).
    public var batchInvariant = false
    /// Scratch of the general path's products.
    let products = SegmentedLinearProduct()

    /// Appends `tokens` at the current position and returns logits: [V] for the last token, or
    /// [tokens.count * V] for every token when `allLogits` is true.
    public func forward(_ tokens: [Int32], allLogits: Bool = false) throws -> [Float] {
        if tokens.count > maxChunk {
            var logits: [Float] = []
            for start in stride(from: 0, to: tokens.count, by: maxChunk) {
                let chunk = Array(tokens[start..<min(tokens.count, start + maxChunk)])
                let last = start + maxChunk >= tokens.count
                let out = try forwardChunk(chunk, allLogits: allLogits)
                if allLogits { logits += out } else if last { logits = out }
            }
            return logits
        }
        return try forwardChunk(tokens, allLogits: allLogits)
    }

    func forwardChunk(_ tokens: [Int32], allLogits: Bool) throws -> [Float] {
        let n = tokens.count
        guard n > 0 else { throw ModelError.invalidInput("no tokens to process") }
        guard position + n <= maxContext else {
            throw ModelError.invalidInput("context full: \(position) cached + \(n) new tokens exceed \(maxContext) positions")
        }
        for (i, t) in tokens.enumerated() where t < 0 || Int(t) >= config.vocabSize {
            throw ModelError.invalidInput("token id \(t) at position \(i) is outside the vocabulary of \(config.vocabSize)")
        }
        if n == 1, usesDecodePlan, let plan = decodePlan {
            let logits = decodeOne(tokens[0], plan: plan)
            position += 1
            return logits
        }
        let pass = BatchedPass([(feed: 0, sequence: 0, tokens: tokens[...], start: position, logitRows: allLogits ? n : 1)])
        let logits = run(pass, products: products) { _, layer in (keyCache[layer].pointer, valueCache[layer].pointer) }[0]
        position += n
        return logits
    }
}
