import IO

extension LlamaConfig {
    /// Reads the `llama.*` hyper-parameters of a GGUF file (vocabulary size from the token list or the
    /// embedding tensor; tied head when there is no `output.weight`).
    public init(gguf: GGUFFile) throws {
        guard let arch = gguf.architecture else { throw IOError.missingKey(file: gguf.path, key: "general.architecture") }
        guard arch == "llama" else {
            throw ModelError.invalidConfig("\(gguf.path): architecture '\(arch)' is not supported as LLaMA (supported: llama)")
        }
        let p = "llama."
        let embd = try gguf.tensor(named: "token_embd.weight")
        let vocab = (try? gguf.stringArray("tokenizer.ggml.tokens").count) ?? embd.rowMajorShape[0]
        let heads = try gguf.int(p + "attention.head_count")
        let hidden = try gguf.int(p + "embedding_length")
        let headDim = gguf.contains(p + "attention.key_length") ? try gguf.int(p + "attention.key_length") : hidden / heads
        self.init(vocabSize: vocab, hiddenSize: hidden,
                  intermediateSize: try gguf.int(p + "feed_forward_length"),
                  layers: try gguf.int(p + "block_count"),
                  heads: heads,
                  kvHeads: gguf.contains(p + "attention.head_count_kv") ? try gguf.int(p + "attention.head_count_kv") : heads,
                  contextLength: try gguf.int(p + "context_length"),
                  rmsNormEpsilon: Float(try gguf.float(p + "attention.layer_norm_rms_epsilon")),
                  ropeTheta: gguf.contains(p + "rope.freq_base") ? Float(try gguf.float(p + "rope.freq_base")) : 10000,
                  tieWordEmbeddings: !gguf.hasTensor(named: "output.weight"),
                  headDim: headDim == hidden / heads ? nil : headDim)
        try validate(source: gguf.path)
    }
}
