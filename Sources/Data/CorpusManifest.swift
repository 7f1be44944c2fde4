/// A summary of a prepared corpus, written as `<prefix>_manifest.json` next to the shards.
public struct CorpusManifest: Codable, Equatable, Sendable {
    /// One written shard.
    public struct Shard: Codable, Equatable, Sendable {
        /// File name (relative to the manifest's folder).
        public var file: String
        /// Tokens in the shard.
        public var tokens: Int
    }

    /// Which tokenizer produced the tokens.
    public struct TokenizerInfo: Codable, Equatable, Sendable {
        /// Where the tokenizer was loaded from (the GGUF path).
        public var source: String
        public var preTokenizer: String
        public var vocabularySize: Int
        /// The token placed before every document (llm.c convention).
        public var documentSeparatorID: Int32
    }

    public var manifestVersion = 1
    public var corpusPath: String
    public var corpusBytes: Int
    public var documents: Int
    public var trainDocuments: Int
    public var valDocuments: Int
    public var valFraction: Double
    public var valSplit: String
    public var tokenizer: TokenizerInfo
    /// "uint16" (llm.c version 1) or "uint32" (version 7).
    public var shardFormat: String
    public var trainTokens: Int
    public var valTokens: Int
    public var trainShards: [Shard]
    public var valShards: [Shard]
    /// Wall-clock seconds spent tokenizing.
    public var tokenizeSeconds: Double
    /// Wall-clock seconds for the whole preparation.
    public var totalSeconds: Double
    /// ISO 8601 creation time.
    public var createdAt: String
}
