import Foundation
import IO
import NN
import Quantization
import Tensor

/// The frozen weights of a GPT-2 model under adapter (LoRA / QLoRA) finetuning: the block linears'
/// weight matrices as `LinearMap`s in a chosen storage (float32, int8, NF4, Q8_0, Q4_0, Q4_1) with
/// their float32 biases, the LayerNorm parameters and position embedding in float32, and the token
/// embedding, which is also the output head (GPT-2 ties them). Nothing here has gradients; products
/// with the quantized matrices decode on the fly and never expand a whole matrix.
public final class GPT2FrozenBase: @unchecked Sendable {
    public let config: GPT2Config
    /// The storage of the block linears' weights.
    public let format: FrozenWeightFormat
    /// Block linears with their biases by module path (`transformer.h.0.attn.c_attn`), [out, in].
    public let linears: [String: BiasedLinearMap]
    /// The weights kept in float32, under their GPT-2 names: LayerNorm scales and shifts
    /// (`transformer.h.0.ln_1.weight`, `transformer.ln_f.bias`, ...), the block linears' biases
    /// (`transformer.h.0.attn.c_attn.bias`, ...) and the position embedding `transformer.wpe.weight`.
    public let floats: ParameterStore
    /// The token embedding `transformer.wte.weight` [vocab, width].
    public let embedding: EmbeddingTable
    /// The output head: the token embedding's storage seen as a map width -> vocab.
    public let head: LinearMap
    /// Bytes of the token embedding (shared with the head).
    let embeddingBytes: Int

    /// `weights` maps each block module path to its weight alone; the biases come from `floats`.
    public init(config: GPT2Config, format: FrozenWeightFormat, weights: [String: LinearMap], floats: ParameterStore,
                embedding: EmbeddingTable, head: LinearMap, embeddingBytes: Int) throws {
        try config.validate()
        guard config.lowRankRanks.isEmpty else {
            throw ModelError.invalidConfig("GPT-2 adapter finetuning needs a dense base model; merge the low-rank factors first")
        }
        for (name, shape) in GPT2FrozenBase.floatLayout(config) {
            guard let e = floats.entry(name) else { throw ModelError.invalidConfig("the frozen GPT-2 base has no \(name)") }
            guard e.shape == shape else { throw ModelError.invalidConfig("the frozen GPT-2 base's \(name) is \(e.shape), the config needs \(shape)") }
        }
        var linears: [String: BiasedLinearMap] = [:]
        for m in config.linearModules {
            guard let map = weights[m.name] else { throw ModelError.invalidConfig("the frozen GPT-2 base has no weight for \(m.name)") }
            guard map.inFeatures == m.inFeatures, map.outFeatures == m.outFeatures else {
                throw ModelError.invalidConfig("\(m.name) is [\(map.outFeatures), \(map.inFeatures)], the config needs [\(m.outFeatures), \(m.inFeatures)]")
            }
            linears[m.name] = try BiasedLinearMap(weight: map, bias: floats[m.name + ".bias"])
        }
        guard embedding.vocabularySize == config.vocabSize, embedding.width == config.embeddingSize,
              head.inFeatures == config.embeddingSize, head.outFeatures == config.vocabSize else {
            throw ModelError.invalidConfig("the frozen GPT-2 embedding or head does not match vocab \(config.vocabSize) x width \(config.embeddingSize)")
        }
        self.config = config
        self.format = format
        self.linears = linears
        self.floats = floats
        self.embedding = embedding
        self.head = head
        self.embeddingBytes = embeddingBytes
    }

    /// The same weights (no copy) with the block linears' batched products in `arithmetic`; the
    /// token embedding and the output head keep theirs.
    public func with(arithmetic: FrozenProductArithmetic) throws -> GPT2FrozenBase {
        try GPT2FrozenBase(config: config, format: format, weights: linears.mapValues { $0.weight.withFrozenArithmetic(arithmetic) },
                           floats: floats, embedding: embedding, head: head, embeddingBytes: embeddingBytes)
    }

    /// Names and shapes of the float32 weights: every GPT-2 parameter except the token embedding and
    /// the block linears' weight matrices, in `GPT2Model.layout` order.
    static func floatLayout(_ config: GPT2Config) -> [(String, [Int])] {
        let matrices = Set(config.linearModules.map { $0.name + ".weight" } + ["transformer.wte.weight"])
        return GPT2Model.layout(config).filter { !matrices.contains($0.0) }
    }

    /// Bytes of all frozen weights as held in memory (the tied head counted once).
    public var weightBytes: Int {
        linears.values.reduce(0) { $0 + $1.weight.storageBytes } + floats.buffer.byteCount + embeddingBytes
    }

    /// A frozen copy of a dense float32 GPT-2: block weights encoded in `format` (f32 keeps views of
    /// the model's tensors); the token embedding stays float32 for `.f32` and is stored as Q8_0
    /// otherwise (when its width is a multiple of 32), like `LlamaFrozenBase`'s.
    public convenience init(model: GPT2Model, format: FrozenWeightFormat) throws {
        guard model.frozen == nil else { throw ModelError.invalidConfig("the model already has a frozen base; build the frozen base from a dense GPT-2") }
        let cfg = model.config, p = model.parameters
        guard cfg.lowRankRanks.isEmpty else {
            throw ModelError.invalidConfig("GPT-2 adapter finetuning needs a dense base model; merge the low-rank factors first")
        }
        var weights: [String: LinearMap] = [:]
        for m in cfg.linearModules { weights[m.name] = try format.makeLinearMap(weight: p[m.name + ".weight"], name: m.name + ".weight") }
        let floats = ParameterStore(layout: GPT2FrozenBase.floatLayout(cfg))
        for e in floats.entries { floats.pointer(e.name).update(from: p.pointer(e.name), count: e.count) }
        let (embedding, head, bytes) = try LlamaFrozenBase.embeddingAndHead(embedding: p["transformer.wte.weight"], head: nil, quantize: format != .f32)
        try self.init(config: cfg, format: format, weights: weights, floats: floats, embedding: embedding, head: head, embeddingBytes: bytes)
    }

    /// The frozen base of a GPT-2 GGUF file (llama.cpp's layout, as `fingpt convert` writes it). Each
    /// block weight is kept as stored when `format` is its ggml type; otherwise it is decoded and
    /// re-encoded one matrix at a time (the float32 model is never built). The token embedding stays
    /// in its stored type, or float32 when `format` is `.f32`.
    public convenience init(gguf: GGUFFile, format: FrozenWeightFormat) throws {
        let cfg = try GPT2Config(gguf: gguf)
        func stored(_ name: String, rows: Int, columns: Int) throws -> QuantizedMatrix {
            let t = try gguf.tensor(named: name)
            guard t.rowMajorShape == [rows, columns] else {
                throw ModelError.invalidConfig("\(gguf.path): tensor \(name) has shape \(t.rowMajorShape), the config needs [\(rows), \(columns)]")
            }
            do {
                return try QuantizedMatrix(type: t.type, rows: rows, columns: columns, bytes: gguf.tensorData(t), owner: gguf.mappedFile)
            } catch let error as QuantizationError {
                throw ModelError.invalidConfig("\(gguf.path): tensor \(name): \(error.description)")
            }
        }
        func ggufName(_ name: String) throws -> String {
            guard let g = TensorNameMapping.ggufName(forGPT2: name) else { throw ModelError.invalidConfig("GPT-2 tensor \(name) has no GGUF name") }
            return g
        }
        var weights: [String: LinearMap] = [:]
        for m in cfg.linearModules {
            let name = try ggufName(m.name + ".weight")
            weights[m.name] = try format.makeLinearMap(quantized: try stored(name, rows: m.outFeatures, columns: m.inFeatures),
                                                       name: "\(gguf.path): \(name)")
        }
        let floats = ParameterStore(layout: GPT2FrozenBase.floatLayout(cfg))
        for e in floats.entries {
            let name = try ggufName(e.name)
            let t = try gguf.tensor(named: name)
            guard t.elementCount == e.count else {
                throw ModelError.invalidConfig("\(gguf.path): \(name) has \(t.elementCount) values, expected \(e.count) (\(e.shape))")
            }
            floats.pointer(e.name).update(from: try gguf.floats(t), count: e.count)
        }
        let embedding: EmbeddingTable, head: LinearMap, bytes: Int
        if format == .f32 {
            let e = try gguf.tensor("token_embd.weight")
            guard e.shape == [cfg.vocabSize, cfg.embeddingSize] else {
                throw ModelError.invalidConfig("\(gguf.path): token_embd.weight has shape \(e.shape), the config needs [\(cfg.vocabSize), \(cfg.embeddingSize)]")
            }
            (embedding, head, bytes) = (DenseEmbeddingTable(weight: e), DenseLinearMap(weight: e), e.count * 4)
        } else {
            let e = try stored("token_embd.weight", rows: cfg.vocabSize, columns: cfg.embeddingSize)
            (embedding, head, bytes) = (QuantizedEmbeddingTable(e), QuantizedLinearMap(e), e.storageBytes)
        }
        try self.init(config: cfg, format: format, weights: weights, floats: floats, embedding: embedding, head: head, embeddingBytes: bytes)
    }
}
