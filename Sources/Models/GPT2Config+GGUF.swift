import IO

extension GPT2Config {
    /// Reads the `gpt2.*` hyper-parameters of a GGUF file (vocabulary size from the token embedding).
    public init(gguf: GGUFFile) throws {
        guard let arch = gguf.architecture else { throw IOError.missingKey(file: gguf.path, key: "general.architecture") }
        guard arch == "gpt2" else {
            throw ModelError.invalidConfig("\(gguf.path): architecture '\(arch)' is not supported as GPT-2 (supported: gpt2)")
        }
        let p = "gpt2."
        let embd = try gguf.tensor(named: "token_embd.weight")
        guard embd.rowMajorShape.count == 2 else {
            throw ModelError.invalidConfig("\(gguf.path): token_embd.weight has shape \(embd.rowMajorShape), expected [vocab, width]")
        }
        self.init(vocabSize: embd.rowMajorShape[0], contextLength: try gguf.int(p + "context_length"), layers: try gguf.int(p + "block_count"),
                  heads: try gguf.int(p + "attention.head_count"), embeddingSize: try gguf.int(p + "embedding_length"),
                  layerNormEpsilon: Float(try gguf.float(p + "attention.layer_norm_epsilon")))
        let ff = gguf.contains(p + "feed_forward_length") ? try gguf.int(p + "feed_forward_length") : 4 * embeddingSize
        guard ff == 4 * embeddingSize else {
            throw ModelError.invalidConfig("\(gguf.path): gpt2.feed_forward_length is \(ff); GPT-2 needs 4 x embedding_length = \(4 * embeddingSize)")
        }
        try validate(source: gguf.path)
    }
}
