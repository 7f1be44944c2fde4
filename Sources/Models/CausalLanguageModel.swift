/// A model that continues token sequences with a cache of what it has seen: feed a prompt, then one
/// token at a time. Generation, chat and perplexity work through this protocol.
public protocol CausalLanguageModel: AnyObject {
    var vocabularySize: Int { get }
    /// Most positions the model (and its cache) can hold.
    var maxContext: Int { get }
    /// Positions currently cached.
    var position: Int { get }
    func reset()
    /// Appends tokens; returns logits of the last token ([V]) or of all of them ([n * V]).
    func forward(_ tokens: [Int32], allLogits: Bool) throws -> [Float]
}

extension LlamaRunner: CausalLanguageModel {
    public var vocabularySize: Int { config.vocabSize }
}
