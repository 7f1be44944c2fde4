import Foundation
import IO
import Models
import Quantization
import Tensor
import Tokenizers

/// Writes LLaMA and GPT-2 models as GGUF files that llama.cpp loads unchanged: the architecture's
/// hyper-parameters, the tokenizer in `tokenizer.ggml.*`, (LLaMA) q/k rows permuted to llama.cpp's
/// rotary layout, matrices in the chosen type (4-bit types keep the token embedding in Q8_0, as
/// llama.cpp's own quantizer does for tied embeddings), norms and biases in F32.
public enum GGUFExporter {
    public static let supportedTypes: [GGMLType] = [.f32, .f16, .q8_0, .q4_0, .q4_1]

    /// llama.cpp's `general.file_type` (llama_ftype) for a type.
    static func fileType(_ t: GGMLType) -> Int {
        switch t { case .f32: return 0; case .f16: return 1; case .q4_0: return 2; case .q4_1: return 3; case .q8_0: return 7; default: return 0 }
    }

    /// `baseTensors`, for a model merged from a GGUF base, encodes the tensors it can keep as the base
    /// stores them (see `MergedTensorEncoder`); the others are quantized with the reference quantizers.
    public static func writeLlama(model: LlamaModel, tokenizer: BPETokenizer, type: GGMLType, name: String,
                                  chatTemplate: String? = nil, baseTensors: MergedTensorEncoder? = nil, to path: String) throws {
        guard supportedTypes.contains(type) else {
            throw ModelError.invalidInput("GGUF export supports \(supportedTypes.map(\.description).joined(separator: ", ")), not \(type)")
        }
        let cfg = model.config
        guard tokenizer.vocabularySize == cfg.vocabSize else {
            throw ModelError.invalidInput("the tokenizer has \(tokenizer.vocabularySize) tokens, the model \(cfg.vocabSize)")
        }
        var w = try GGUFWriter()
        func set(_ k: String, _ v: GGUFValue) { w.setValue(v, forKey: k) }
        set("general.architecture", .string("llama"))
        set("general.name", .string(name))
        set("general.file_type", .uint32(UInt32(fileType(type))))
        if type.isQuantized { set("general.quantization_version", .uint32(2)) }
        set("llama.context_length", .uint32(UInt32(cfg.contextLength)))
        set("llama.embedding_length", .uint32(UInt32(cfg.hiddenSize)))
        set("llama.block_count", .uint32(UInt32(cfg.layers)))
        set("llama.feed_forward_length", .uint32(UInt32(cfg.intermediateSize)))
        set("llama.attention.head_count", .uint32(UInt32(cfg.heads)))
        set("llama.attention.head_count_kv", .uint32(UInt32(cfg.kvHeads)))
        set("llama.attention.layer_norm_rms_epsilon", .float32(cfg.rmsNormEpsilon))
        set("llama.rope.freq_base", .float32(cfg.ropeTheta))
        set("llama.rope.dimension_count", .uint32(UInt32(cfg.headDim)))
        if cfg.headDimOverride != nil {
            set("llama.attention.key_length", .uint32(UInt32(cfg.headDim)))
            set("llama.attention.value_length", .uint32(UInt32(cfg.headDim)))
        }
        set("llama.vocab_size", .uint32(UInt32(cfg.vocabSize)))
        setTokenizer(&w, tokenizer, chatTemplate: chatTemplate)

        func add(_ ggufName: String, _ tensor: Tensor, as t: GGMLType) throws {
            if let bytes = try baseTensors?.encoded(ggufName, tensor, as: t) {
                try bytes.withUnsafeBytes { try w.addEncodedTensor(ggufName, dimensions: tensor.shape.reversed(), type: t, bytes: $0) }
            } else {
                try w.addTensor(ggufName, tensor, as: t)
            }
        }
        let p = model.parameters
        let embeddingType: GGMLType = type == .q4_0 || type == .q4_1 ? .q8_0 : type
        try add("token_embd.weight", p["model.embed_tokens.weight"], as: embeddingType)
        for l in 0..<cfg.layers {
            let hf = "model.layers.\(l)."
            for (name, t) in [("input_layernorm.weight", GGMLType.f32), ("post_attention_layernorm.weight", .f32),
                              ("self_attn.q_proj.weight", type), ("self_attn.k_proj.weight", type), ("self_attn.v_proj.weight", type),
                              ("self_attn.o_proj.weight", type), ("mlp.gate_proj.weight", type), ("mlp.up_proj.weight", type),
                              ("mlp.down_proj.weight", type)] {
                var tensor = p[hf + name]
                if name.hasPrefix("self_attn.q_proj") || name.hasPrefix("self_attn.k_proj") {
                    let permuted = tensor.copy()
                    TensorNameMapping.permuteRotaryRows(tensor.pointer, permuted.pointer, rows: tensor.shape[0], rowBytes: tensor.shape[1] * 4,
                                                        headDim: cfg.headDim, toHuggingFace: false)
                    tensor = permuted
                }
                try add(TensorNameMapping.ggufName(forLlama: hf + name)!, tensor, as: t)
            }
        }
        try add("output_norm.weight", p["model.norm.weight"], as: .f32)
        if !cfg.tieWordEmbeddings { try add("output.weight", p["lm_head.weight"], as: type) }
        try w.write(to: path)
    }

    /// The tokenizer as llama.cpp's `tokenizer.ggml.*` keys (byte-level BPE).
    static func setTokenizer(_ w: inout GGUFWriter, _ tokenizer: BPETokenizer, chatTemplate: String?) {
        func set(_ k: String, _ v: GGUFValue) { w.setValue(v, forKey: k) }
        set("tokenizer.ggml.model", .string("gpt2"))
        set("tokenizer.ggml.pre", .string(tokenizer.ggmlPreTokenizerName))
        set("tokenizer.ggml.tokens", .array(elementType: .string, values: tokenizer.tokens.map { .string($0) }))
        set("tokenizer.ggml.token_type", .array(elementType: .int32, values: tokenizer.tokenTypes.map { .int32($0.rawValue) }))
        set("tokenizer.ggml.merges", .array(elementType: .string, values: tokenizer.mergeRules.map { .string($0) }))
        if let b = tokenizer.bosID { set("tokenizer.ggml.bos_token_id", .uint32(UInt32(b))) }
        if let e = tokenizer.eosID { set("tokenizer.ggml.eos_token_id", .uint32(UInt32(e))) }
        if let p = tokenizer.padID { set("tokenizer.ggml.padding_token_id", .uint32(UInt32(p))) }
        if let u = tokenizer.unknownID { set("tokenizer.ggml.unknown_token_id", .uint32(UInt32(u))) }
        set("tokenizer.ggml.add_bos_token", .bool(tokenizer.addBOS))
        if let chatTemplate { set("tokenizer.chat_template", .string(chatTemplate)) }
    }

    /// A dense GPT-2 model (merge factorised layers first) as llama.cpp's `gpt2` architecture: the
    /// weights are already in PyTorch Linear layout [out, in], which is ggml's row layout.
    public static func writeGPT2(model: GPT2Model, tokenizer: BPETokenizer, type: GGMLType, name: String, to path: String) throws {
        guard supportedTypes.contains(type) else {
            throw ModelError.invalidInput("GGUF export supports \(supportedTypes.map(\.description).joined(separator: ", ")), not \(type)")
        }
        let cfg = model.config
        guard cfg.lowRankRanks.isEmpty else { throw ModelError.invalidInput("merge the low-rank layers before writing GGUF (llama.cpp has no factorised GPT-2)") }
        guard tokenizer.vocabularySize == cfg.vocabSize else {
            throw ModelError.invalidInput("the tokenizer has \(tokenizer.vocabularySize) tokens, the model \(cfg.vocabSize)")
        }
        var w = try GGUFWriter()
        func set(_ k: String, _ v: GGUFValue) { w.setValue(v, forKey: k) }
        set("general.architecture", .string("gpt2"))
        set("general.name", .string(name))
        set("general.file_type", .uint32(UInt32(fileType(type))))
        if type.isQuantized { set("general.quantization_version", .uint32(2)) }
        set("gpt2.context_length", .uint32(UInt32(cfg.contextLength)))
        set("gpt2.embedding_length", .uint32(UInt32(cfg.embeddingSize)))
        set("gpt2.feed_forward_length", .uint32(UInt32(4 * cfg.embeddingSize)))
        set("gpt2.block_count", .uint32(UInt32(cfg.layers)))
        set("gpt2.attention.head_count", .uint32(UInt32(cfg.heads)))
        set("gpt2.attention.layer_norm_epsilon", .float32(cfg.layerNormEpsilon))
        setTokenizer(&w, tokenizer, chatTemplate: nil)
        let p = model.parameters
        let embeddingType: GGMLType = type == .q4_0 || type == .q4_1 ? .q8_0 : type
        for e in p.entries {
            guard let g = TensorNameMapping.ggufName(forGPT2: e.name) else {
                throw ModelError.invalidInput("no GGUF name for GPT-2 tensor \(e.name)")
            }
            let t: GGMLType = e.shape.count == 1 || e.name == "transformer.wpe.weight" ? .f32 : (e.name == "transformer.wte.weight" ? embeddingType : type)
            try w.addTensor(g, p[e.name], as: t)
        }
        try w.write(to: path)
    }
}
