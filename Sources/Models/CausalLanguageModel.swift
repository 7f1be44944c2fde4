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
    /// Drops cached positions beyond `count`, so the next `forward` continues after the first
    /// `count` tokens (reusing a shared prompt prefix). Throws when the model cannot roll back.
    func truncate(to count: Int) throws
}

extension CausalLanguageModel {
    /// Models without a rollable cache: only a full reset is possible.
    public func truncate(to count: Int) throws {
        if count <= 0 { reset(); return }
        guard count >= position else {
            throw ModelError.invalidInput("\(type(of: self)) cannot roll its cache back from \(position) to \(count) positions")
        }
    }
}

extension LlamaRunner: CausalLanguageModel {
    public var vocabularySize: Int { config.vocabSize }
}
