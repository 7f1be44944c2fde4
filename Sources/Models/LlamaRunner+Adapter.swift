import NN
import Tensor

extension LlamaRunner {
    /// A runner over the same weights with a LoRA adapter added: each adapted module's rows of the
    /// (stacked q/k/v, gate/up) maps get scaling * B A on top of the stored base, which is not
    /// modified or expanded. The new runner has its own, empty cache.
    public func adapted(by adapter: LoRAAdapter) throws -> LlamaRunner {
        try adapter.validate(against: .llama(config))
        let scaling = adapter.scaling
        func wrap(_ map: LinearMap, layer: Int, parts: [(module: String, rows: Int)]) throws -> LinearMap {
            var offset = 0, deltas: [AdaptedLinearMap.Delta] = []
            for p in parts {
                if let m = adapter.module(named: "model.layers.\(layer)." + p.module) {
                    deltas.append(.init(rowOffset: offset, a: adapter.a(m), b: adapter.b(m), scaling: scaling))
                }
                offset += p.rows
            }
            return deltas.isEmpty ? map : try AdaptedLinearMap(base: map, deltas: deltas)
        }
        let c = config, im = c.intermediateSize
        let adaptedLayers = try layers.enumerated().map { l, layer -> Layer in
            Layer(attentionNorm: layer.attentionNorm,
                  qkv: try wrap(layer.qkv, layer: l, parts: [("self_attn.q_proj", c.qDim), ("self_attn.k_proj", c.kvDim), ("self_attn.v_proj", c.kvDim)]),
                  o: try wrap(layer.o, layer: l, parts: [("self_attn.o_proj", c.hiddenSize)]),
                  mlpNorm: layer.mlpNorm,
                  gateUp: try wrap(layer.gateUp, layer: l, parts: [("mlp.gate_proj", im), ("mlp.up_proj", im)]),
                  down: try wrap(layer.down, layer: l, parts: [("mlp.down_proj", c.hiddenSize)]))
        }
        return try LlamaRunner(config: config, layers: adaptedLayers, embedding: embedding, finalNorm: finalNorm, head: head, maxContext: maxContext)
    }
}
