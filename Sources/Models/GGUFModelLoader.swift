import Foundation
import IO
import NN
import Quantization
import Tensor

/// Builds models from GGUF files: LLaMA runners that compute directly on the stored (quantized)
/// weights, and float32 models for training.
public enum GGUFModelLoader {
    /// A LLaMA inference runner whose matrices stay in their stored form: o, down and the embedding are
    /// memory-mapped; q/k/v and gate/up are stacked into owned copies (q/k rows with llama.cpp's rotary
    /// permutation undone), still quantized.
    public static func llamaRunner(gguf: GGUFFile, maxContext: Int? = nil) throws -> LlamaRunner {
        let cfg = try LlamaConfig(gguf: gguf)
        func info(_ name: String, rows: Int, columns: Int) throws -> GGUFTensorInfo {
            let t = try gguf.tensor(named: name)
            guard t.rowMajorShape == [rows, columns] else {
                throw ModelError.invalidConfig("\(gguf.path): tensor \(name) has shape \(t.rowMajorShape), the config needs [\(rows), \(columns)]")
            }
            return t
        }
        func matrix(_ name: String, rows: Int, columns: Int) throws -> QuantizedMatrix {
            let t = try info(name, rows: rows, columns: columns)
            return try QuantizedMatrix(type: t.type, rows: rows, columns: columns, bytes: gguf.tensorData(t), owner: gguf.mappedFile)
        }
        /// Several matrices of one type and width stacked row-wise into one owned matrix; rotary
        /// matrices (q, k) get llama.cpp's row permutation undone on the way.
        func stacked(_ parts: [(name: String, rows: Int, rotary: Bool)], columns: Int) throws -> QuantizedMatrix {
            let infos = try parts.map { try info($0.name, rows: $0.rows, columns: columns) }
            let type = infos[0].type
            guard infos.allSatisfy({ $0.type == type }) else {
                throw ModelError.invalidConfig("\(gguf.path): \(parts.map(\.name).joined(separator: ", ")) have different types; they must match to be stacked")
            }
            let rowBytes = type.rowByteCount(columns: columns)
            let total = parts.reduce(0) { $0 + $1.rows }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: total * rowBytes, alignment: 64)
            defer { buffer.deallocate() }
            var row = 0
            for (part, t) in zip(parts, infos) {
                let src = gguf.tensorData(t), dst = buffer.baseAddress! + row * rowBytes
                if part.rotary {
                    TensorNameMapping.permuteRotaryRows(src.baseAddress!, dst, rows: part.rows, rowBytes: rowBytes, headDim: cfg.headDim, toHuggingFace: true)
                } else {
                    dst.copyMemory(from: src.baseAddress!, byteCount: part.rows * rowBytes)
                }
                row += part.rows
                gguf.releasePages(of: t) // the stacked copy replaces these bytes
            }
            return try QuantizedMatrix(type: type, rows: total, columns: columns, copying: UnsafeRawBufferPointer(buffer))
        }
        func vector(_ name: String) throws -> [Float] { try gguf.floats(name) }
        let c = cfg.hiddenSize
        var layers: [LlamaRunner.Layer] = []
        for l in 0..<cfg.layers {
            let p = "blk.\(l)."
            layers.append(LlamaRunner.Layer(
                attentionNorm: try vector(p + "attn_norm.weight"),
                qkv: QuantizedLinearMap(try stacked([(p + "attn_q.weight", cfg.qDim, true), (p + "attn_k.weight", cfg.kvDim, true),
                                                     (p + "attn_v.weight", cfg.kvDim, false)], columns: c)),
                o: QuantizedLinearMap(try matrix(p + "attn_output.weight", rows: c, columns: cfg.qDim)),
                mlpNorm: try vector(p + "ffn_norm.weight"),
                gateUp: QuantizedLinearMap(try stacked([(p + "ffn_gate.weight", cfg.intermediateSize, false),
                                                        (p + "ffn_up.weight", cfg.intermediateSize, false)], columns: c)),
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
