import Models
import Tensor

/// A causal language model that remembers which tokens its key/value cache holds, so that a new
/// sequence only computes what differs from the previous one: the longest common prefix stays in
/// the cache (rolled back with `truncate(to:)`) and only the rest is fed. Prompts that share an
/// instruction, and the label words scored after one prompt, reuse the shared part.
///
/// The next-token logits at the end of every `append` are kept while their position stays cached,
/// so asking again for the logits after a cached prefix (the prompt, for the second and third
/// label word) costs nothing and returns exactly the same numbers.
public final class PrefixCachedModel {
    public let model: CausalLanguageModel
    /// The tokens the model's cache holds, in order.
    public private(set) var cached: [Int32] = []
    /// Positions fed to the model and positions reused from the cache, over this object's life.
    public private(set) var computedTokens = 0
    public private(set) var reusedTokens = 0
    /// Next-token logits after the first `key` cached tokens (ends of earlier appends).
    var savedLogits: [Int: [Float]] = [:]

    public init(model: CausalLanguageModel) {
        self.model = model
        model.reset()
    }

    /// Makes the cache hold exactly `sequence` and returns the next-token logits after it ([V]).
    public func logits(after sequence: [Int32]) throws -> [Float] {
        guard !sequence.isEmpty else { throw EvaluationError.invalidInput("cannot score after an empty sequence") }
        guard sequence.count <= model.maxContext else {
            throw EvaluationError.invalidInput("\(sequence.count) tokens do not fit the model's context of \(model.maxContext)")
        }
        if model.position != cached.count { try rollBack(to: 0) }  // someone else used the model
        var common = 0
        let limit = min(cached.count, sequence.count)
        while common < limit && cached[common] == sequence[common] { common += 1 }
        if common == sequence.count, let saved = savedLogits[common] {
            try rollBack(to: common)
            reusedTokens += common
            return saved
        }
        let keep = min(common, sequence.count - 1)  // feed at least one token to get logits
        try rollBack(to: keep)
        reusedTokens += keep
        return try append(Array(sequence[keep...]), allLogits: false)
    }

    /// Feeds `tokens` after the cached ones; logits of the last ([V]) or all ([n * V]).
    public func append(_ tokens: [Int32], allLogits: Bool) throws -> [Float] {
        guard cached.count + tokens.count <= model.maxContext else {
            throw EvaluationError.invalidInput("\(cached.count + tokens.count) tokens do not fit the model's context of \(model.maxContext)")
        }
        let logits = try model.forward(tokens, allLogits: allLogits)
        cached += tokens
        computedTokens += tokens.count
        savedLogits[cached.count] = allLogits ? Array(logits.suffix(model.vocabularySize)) : logits
        return logits
    }

    /// Natural-log probability of each `continuation` token given `context` and the tokens before
    /// it. The context is kept in the cache; the continuation costs one forward of all but its
    /// last token.
    public func logProbabilities(of continuation: [Int32], after context: [Int32]) throws -> [Double] {
        guard !continuation.isEmpty else { throw EvaluationError.invalidInput("empty continuation") }
        let v = model.vocabularySize
        for t in continuation where t < 0 || Int(t) >= v {
            throw EvaluationError.invalidInput("continuation token \(t) is outside the vocabulary of \(v)")
        }
        var first = try logits(after: context)
        var out = [PrefixCachedModel.logProbability(of: continuation[0], in: &first, offset: 0, vocabulary: v)]
        if continuation.count > 1 {
            var rest = try append(Array(continuation.dropLast()), allLogits: true)
            for i in 1..<continuation.count {
                out.append(PrefixCachedModel.logProbability(of: continuation[i], in: &rest, offset: (i - 1) * v, vocabulary: v))
            }
        }
        return out
    }

    /// Keeps the first `count` cached positions and the logits saved within them.
    func rollBack(to count: Int) throws {
        if count == 0 { model.reset() } else if count < cached.count { try model.truncate(to: count) }
        if count < cached.count { cached.removeSubrange(count...) }
        savedLogits = savedLogits.filter { $0.key <= count }
    }

    /// log softmax(row)[token] for the row starting at `offset` (the row is overwritten).
    static func logProbability(of token: Int32, in logits: inout [Float], offset: Int, vocabulary v: Int) -> Double {
        logits.withUnsafeMutableBufferPointer { p in
            let row = p.baseAddress! + offset
            let target = Double(row[Int(token)])
            let lse = Double(Kernels.softmaxInPlace(row, count: v))
            return target - lse
        }
    }
}
