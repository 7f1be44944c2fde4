import Foundation
import IO
import NN
import Quantization
import Tensor

/// Builds models from GGUF files: LLaMA runners that compute directly on the stored (quantized)
/// weights, and float32 models for training.
public enum GGUFModelLoader {
    /// A LLaMA inference runner whose matrices stay in their stored form (memory-mapped where the
    /// layout allows; q/k rows are copied once to undo llama.cpp's rotary permutation).
    public static func llamaRunner(gguf: GGUFFile, maxContext: Int? = nil) throws -> LlamaRunner {
        let cfg = try LlamaConfig(gguf: gguf)
        func matrix(_ name: String, rows: Int, columns: Int, rotaryHeads: Int? = nil) throws -> QuantizedMatrix {
            let info = try gguf.tensor(named: name)
            guard info.rowMajorShape == [rows, columns] else {
                throw ModelError.invalidConfig("\(gguf.path): tensor \(name) has shape \(info.rowMajorShape), the config needs [\(rows), \(columns)]")
            }
            let bytes = gguf.tensorData(info)
            guard rotaryHeads != nil else {
                return try QuantizedMatrix(type: info.type, rows: rows, columns: columns, bytes: bytes, owner: gguf)
            }
            let rowBytes = info.type.rowByteCount(columns: columns)
            let permuted = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 64)
            defer { permuted.deallocate() }
            TensorNameMapping.permuteRotaryRows(bytes.baseAddress!, permuted.baseAddress!, rows: rows, rowBytes: rowBytes,
                                                headDim: cfg.headDim, toHuggingFace: true)
            return try QuantizedMatrix(type: info.type, rows: rows, columns: columns, copying: UnsafeRawBufferPointer(permuted))
        }
        func vector(_ name: String) throws -> [Float] { try gguf.floats(name) }
        let c = cfg.hiddenSize
        var layers: [LlamaRunner.Layer] = []
        for l in 0..<cfg.layers {
            let p = "blk.\(l)."
            layers.append(LlamaRunner.Layer(
                attentionNorm: try vector(p + "attn_norm.weight"),
                q: QuantizedLinearMap(try matrix(p + "attn_q.weight", rows: cfg.qDim, columns: c, rotaryHeads: cfg.heads)),
                k: QuantizedLinearMap(try matrix(p + "attn_k.weight", rows: cfg.kvDim, columns: c, rotaryHeads: cfg.kvHeads)),
                v: QuantizedLinearMap(try matrix(p + "attn_v.weight", rows: cfg.kvDim, columns: c)),
                o: QuantizedLinearMap(try matrix(p + "attn_output.weight", rows: c, columns: cfg.qDim)),
                mlpNorm: try vector(p + "ffn_norm.weight"),
                gate: QuantizedLinearMap(try matrix(p + "ffn_gate.weight", rows: cfg.intermediateSize, columns: c)),
                up: QuantizedLinearMap(try matrix(p + "ffn_up.weight", rows: cfg.intermediateSize, columns: c)),
                down: QuantizedLinearMap(try matrix(p + "ffn_down.weight", rows: c, columns: cfg.intermediateSize))))
        }
        let embedding = try matrix("token_embd.weight", rows: cfg.vocabSize, columns: c)
        let head = cfg.tieWordEmbeddings ? embedding : try matrix("output.weight", rows: cfg.vocabSize, columns: c)
        return try LlamaRunner(config: cfg, layers: layers, embedding: QuantizedEmbeddingTable(embedding),
                               finalNorm: try vector("output_norm.weight"), head: QuantizedLinearMap(head), maxContext: maxContext)
    }

    /// A float32 LLaMA model (dequantized, q/k rows in Hugging Face layout) for training or export.
    public static func llamaModel(gguf: GGUFFile) throws -> LlamaModel {
        let cfg = try LlamaConfig(gguf: gguf)
        let model = try LlamaModel(config: cfg)
        for e in model.parameters.entries {
            guard let name = TensorNameMapping.ggufName(forLlama: e.name) else { continue }
            let t = try gguf.tensor(name)
            guard t.shape == e.shape else {
                throw ModelError.invalidConfig("\(gguf.path): tensor \(name) has shape \(t.shape), the config needs \(e.shape)")
            }
            let dst = model.parameters.pointer(e.name)
            if e.name.hasSuffix("q_proj.weight") || e.name.hasSuffix("k_proj.weight") {
                TensorNameMapping.permuteRotaryRows(t.pointer, dst, rows: e.shape[0], rowBytes: e.shape[1] * 4, headDim: cfg.headDim, toHuggingFace: true)
            } else {
                dst.update(from: t.pointer, count: t.count)
            }
        }
        return model
    }
}
