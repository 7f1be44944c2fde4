extension BPETokenizer {
    /// The merge rules "left right" in rank order, as GGUF's `tokenizer.ggml.merges` and
    /// merges.txt store them.
    public var mergeRules: [String] {
        merges.map { (key: $0.key, rank: $0.value >> 32) }
            .sorted { $0.rank < $1.rank }
            .map { tokens[Int($0.key >> 32)] + " " + tokens[Int($0.key & 0xFFFF_FFFF)] }
    }

    /// The name llama.cpp uses for this pre-tokenizer in `tokenizer.ggml.pre`.
    public var ggmlPreTokenizerName: String {
        switch preTokenizer {
        case .gpt2: return "gpt-2"
        case .smollm: return "smollm"
        case .llama3: return "llama-bpe"
        }
    }
}
