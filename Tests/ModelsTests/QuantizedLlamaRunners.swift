import Foundation
@testable import Models
import NN
import Quantization
import Tensor

/// LLaMA runners over a training model's weights quantized (for tests of the quantized paths).
enum QuantizedLlamaRunners {
    /// A runner over `model`'s weights quantized: blocks as `blockType` (o as Q4_0), head as Q8_0.
    static func make(_ model: LlamaModel, blockType: GGMLType, maxContext: Int? = nil) throws -> LlamaRunner {
        let p = model.parameters, cfg = model.config
        func map(_ names: [String], _ type: GGMLType) throws -> QuantizedLinearMap {
            let parts = names.map { p[$0] }
            let w = Tensor(zeros: [parts.reduce(0) { $0 + $1.shape[0] }, parts[0].shape[1]])
            var offset = 0
            for t in parts { (w.pointer + offset).update(from: t.pointer, count: t.count); offset += t.count }
            return QuantizedLinearMap(try QuantizedMatrix(quantizing: w, as: type))
        }
        let layers = try (0..<cfg.layers).map { l -> LlamaRunner.Layer in
            let n = "model.layers.\(l)."
            return LlamaRunner.Layer(
                attentionNorm: p[n + "input_layernorm.weight"].array,
                qkv: try map([n + "self_attn.q_proj.weight", n + "self_attn.k_proj.weight", n + "self_attn.v_proj.weight"], blockType),
                o: try map([n + "self_attn.o_proj.weight"], .q4_0),
                mlpNorm: p[n + "post_attention_layernorm.weight"].array,
                gateUp: try map([n + "mlp.gate_proj.weight", n + "mlp.up_proj.weight"], blockType),
                down: try map([n + "mlp.down_proj.weight"], blockType))
        }
        return try LlamaRunner(config: cfg, layers: layers, embedding: DenseEmbeddingTable(weight: p["model.embed_tokens.weight"]),
                               finalNorm: p["model.norm.weight"].array, head: try map([model.headName], .q8_0), maxContext: maxContext)
    }
}
