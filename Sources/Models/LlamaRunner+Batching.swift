extension LlamaRunner: BatchableLanguageModel {
    /// A `LlamaBatchRunner` over this runner's weights.
    public func makeBatchedModel(sequences: Int) throws -> BatchedLanguageModel {
        try LlamaBatchRunner(runner: self, sequences: sequences)
    }
}
