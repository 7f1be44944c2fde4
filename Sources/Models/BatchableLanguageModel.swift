/// A causal language model that can also run several sequences per forward pass.
public protocol BatchableLanguageModel: CausalLanguageModel {
    /// A batched model over the same weights (not copied) with `sequences` empty caches of its own;
    /// this model's cache is untouched.
    func makeBatchedModel(sequences: Int) throws -> BatchedLanguageModel
}
