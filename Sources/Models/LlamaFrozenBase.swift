import Foundation
import IO
import NN
import Quantization
import Tensor

/// The frozen weights of a LLaMA model under adapter (LoRA / QLoRA) finetuning: the block linears as
/// `LinearMap`s in a chosen storage (float32, int8, NF4, Q8_0, Q4_0, Q4_1), the norm vectors, the
/// embedding table and the output head. Nothing here has gradients; products with the quantized
/// matrices decode on the fly and never expand a whole matrix.
public final class LlamaFrozenBase: @unchecked Sendable {
    public let config: LlamaConfig
    /// The storage of the block linears.
    public let format: FrozenWeightFormat
    /// Block linears by Hugging Face module path (`model.layers.0.self_attn.q_proj`), rows in
    /// Hugging Face's rotary layout.
    public let linears: [String: LinearMap]
    /// Norm weights under their Hugging Face names (`model.layers.0.input_layernorm.weight`, `model.norm.weight`).
    public let norms: ParameterStore
    public let embedding: EmbeddingTable
    public let head: LinearMap
    /// Bytes of the embedding when it is not shared with the head's storage.
    let embeddingBytes: Int

    public init(config: LlamaConfig, format: FrozenWeightFormat, linears: [String: LinearMap], norms: ParameterStore,
                embedding: EmbeddingTable, head: LinearMap, embeddingBytes: Int) throws {
        try config.validate()
        guard config.lowRankRanks.isEmpty else {
            throw ModelError.invalidConfig("adapter finetuning needs a dense base model; merge the low-rank factors first")
        }
        for m in config.linearModules {
            guard let map = linears[m.name] else { throw ModelError.invalidConfig("the frozen base has no weight for \(m.name)") }
            guard map.inFeatures == m.inFeatures, map.outFeatures == m.outFeatures else {
                throw ModelError.invalidConfig("\(m.name) is [\(map.outFeatures), \(map.inFeatures)], the config needs [\(m.outFeatures), \(m.inFeatures)]")
            }
        }
        for name in LlamaFrozenBase.normNames(config) where !norms.contains(name) {
            throw ModelError.invalidConfig("the frozen base has no \(name)")
        }
        guard embedding.vocabularySize == config.vocabSize, embedding.width == config.hiddenSize,
              head.inFeatures == config.hiddenSize, head.outFeatures == config.vocabSize else {
            throw ModelError.invalidConfig("embedding or output head does not match vocab \(config.vocabSize) x hidden \(config.hiddenSize)")
        }
        self.config = config
        self.format = format
        self.linears = linears
        self.norms = norms
        self.embedding = embedding
        self.head = head
        self.embeddingBytes = embeddingBytes
    }

    /// The same weights (no copy) with the block linears' batched products in `arithmetic`; the
    /// embedding and the output head keep theirs.
    public func with(arithmetic: FrozenProductArithmetic) throws -> LlamaFrozenBase {
        try LlamaFrozenBase(config: config, format: format, linears: linears.mapValues { $0.withFrozenArithmetic(arithmetic) },
                            norms: norms, embedding: embedding, head: head, embeddingBytes: embeddingBytes)
    }

    static func normNames(_ c: LlamaConfig) -> [String] {
        (0..<c.layers).flatMap { ["model.layers.\($0).input_layernorm.weight", "model.layers.\($0).post_attention_layernorm.weight"] }
            + ["model.norm.weight"]
    }

    /// Bytes of all frozen weights as held in memory.
    public var weightBytes: Int {
        linears.values.reduce(0) { $0 + $1.storageBytes } + norms.buffer.byteCount + embeddingBytes
            + ((head as AnyObject) === (embedding as AnyObject) || config.tieWordEmbeddings ? 0 : head.storageBytes)
    }

    /// A frozen copy of a float32 model: block linears encoded in `format` (f32 keeps views of the
    /// model's tensors); the embedding and head stay float32 for `.f32` and are stored as Q8_0
    /// otherwise (their products with the hidden states decode on the fly, like the linears').
    public convenience init(model: LlamaModel, format: FrozenWeightFormat) throws {
        let cfg = model.config, p = model.parameters
        var linears: [String: LinearMap] = [:]
        for m in cfg.linearModules { linears[m.name] = try format.makeLinearMap(weight: p[m.name + ".weight"], name: m.name + ".weight") }
        let norms = ParameterStore(layout: LlamaFrozenBase.normNames(cfg).map { ($0, [cfg.hiddenSize]) })
        for e in norms.entries { norms.pointer(e.name).update(from: p.pointer(e.name), count: e.count) }
        let (embedding, head, bytes) = try LlamaFrozenBase.embeddingAndHead(
            embedding: p["model.embed_tokens.weight"], head: cfg.tieWordEmbeddings ? nil : p["lm_head.weight"], quantize: format != .f32)
        try self.init(config: cfg, format: format, linears: linears, norms: norms, embedding: embedding, head: head, embeddingBytes: bytes)
    }

    static func embeddingAndHead(embedding: Tensor, head: Tensor?, quantize: Bool) throws -> (EmbeddingTable, LinearMap, Int) {
        guard quantize, embedding.shape[1] % GGMLType.q8_0.blockSize == 0 else {
            return (DenseEmbeddingTable(weight: embedding), DenseLinearMap(weight: head ?? embedding), embedding.count * 4)
        }
        let e = try QuantizedMatrix(quantizing: embedding, as: .q8_0)
        let h = try head.map { try QuantizedMatrix(quantizing: $0, as: .q8_0) } ?? e
        return (QuantizedEmbeddingTable(e), QuantizedLinearMap(h), e.storageBytes)
    }

    /// The frozen base of a LLaMA GGUF file. Each block matrix is kept as stored when `format` is its
    /// ggml type; otherwise it is decoded and re-encoded one matrix at a time (the float32 model is
    /// never built). q/k rows get llama.cpp's rotary permutation undone. The embedding (and head)
    /// stay in their stored type, or float32 when `format` is `.f32`.
    public convenience init(gguf: GGUFFile, format: FrozenWeightFormat) throws {
        let cfg = try LlamaConfig(gguf: gguf)
        func stored(_ name: String, rows: Int, columns: Int, rotary: Bool) throws -> QuantizedMatrix {
            let t = try gguf.tensor(named: name)
            guard t.rowMajorShape == [rows, columns] else {
                throw ModelError.invalidConfig("\(gguf.path): tensor \(name) has shape \(t.rowMajorShape), the config needs [\(rows), \(columns)]")
            }
            let bytes = try gguf.tensorData(t)
            guard rotary else { return try QuantizedMatrix(type: t.type, rows: rows, columns: columns, bytes: bytes, owner: gguf.mappedFile) }
            let rowBytes = t.type.rowByteCount(columns: columns)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
            defer { buffer.deallocate() }
            TensorNameMapping.permuteRotaryRows(bytes.baseAddress!, buffer.baseAddress!, rows: rows, rowBytes: rowBytes, headDim: cfg.headDim, toHuggingFace: true)
            return try QuantizedMatrix(type: t.type, rows: rows, columns: columns, copying: UnsafeRawBufferPointer(buffer))
        }
        var linears: [String: LinearMap] = [:]
        for m in cfg.linearModules {
            guard let name = TensorNameMapping.ggufName(forLlama: m.name + ".weight") else { continue }
            let rotary = m.name.hasSuffix("q_proj") || m.name.hasSuffix("k_proj")
            let matrix = try stored(name, rows: m.outFeatures, columns: m.inFeatures, rotary: rotary)
            linears[m.name] = try format.makeLinearMap(quantized: matrix, name: "\(gguf.path): \(name)")
        }
        let norms = ParameterStore(layout: LlamaFrozenBase.normNames(cfg).map { ($0, [cfg.hiddenSize]) })
        for e in norms.entries {
            guard let name = TensorNameMapping.ggufName(forLlama: e.name) else { continue }
            let v = try gguf.floats(name)
            guard v.count == e.count else { throw ModelError.invalidConfig("\(gguf.path): \(name) has \(v.count) values, expected \(e.count)") }
            norms.pointer(e.name).update(from: v, count: e.count)
        }
        let embedding: EmbeddingTable, head: LinearMap, bytes: Int
        if format == .f32 {
            let e = try gguf.tensor("token_embd.weight")
            embedding = DenseEmbeddingTable(weight: e)
            head = DenseLinearMap(weight: cfg.tieWordEmbeddings ? e : try gguf.tensor("output.weight"))
            bytes = e.count * 4
        } else {
            let e = try stored("token_embd.weight", rows: cfg.vocabSize, columns: cfg.hiddenSize, rotary: false)
            embedding = QuantizedEmbeddingTable(e)
            head = QuantizedLinearMap(cfg.tieWordEmbeddings ? e : try stored("output.weight", rows: cfg.vocabSize, columns: cfg.hiddenSize, rotary: false))
            bytes = e.storageBytes
        }
        try self.init(config: cfg, format: format, linears: linears, norms: norms, embedding: embedding, head: head, embeddingBytes: bytes)
    }
}
