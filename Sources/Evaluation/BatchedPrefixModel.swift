import Models

/// The batched counterpart of `PrefixCachedModel`: the sequences of a `BatchedLanguageModel` loaded
/// with several contexts at once, so that each forward pass serves all of them.
///
/// The prompt prefix that a batch of contexts shares (the instruction) is computed once, in the
/// model's last sequence, and its cache copied into the sequences that need it; a sequence that
/// already holds more of its new context (the same context scored again) keeps its own cache
/// instead. Everything else of each context is fed in one pass for all of them.
public final class BatchedPrefixModel {
    public let model: BatchedLanguageModel
    /// Contexts one call can hold (the model's sequences but the one for the shared prefix).
    public var capacity: Int { model.sequenceCount - 1 }
    /// Positions fed to the model and positions reused (copied or kept) from a cache, over this
    /// object's life.
    public private(set) var computedTokens = 0
    public private(set) var reusedTokens = 0
    /// The tokens each context sequence holds, and those of the shared-prefix sequence.
    private var cached: [[Int32]]
    private var prefix: [Int32] = []
    private var prefixSequence: Int { model.sequenceCount - 1 }

    /// Empties all of `model`'s sequences; needs at least two (one holds the shared prefix).
    public init(model: BatchedLanguageModel) throws {
        guard model.sequenceCount >= 2 else {
            throw EvaluationError.invalidInput("a batched model needs at least 2 sequences (one for the shared prefix), got \(model.sequenceCount)")
        }
        self.model = model
        cached = Array(repeating: [], count: model.sequenceCount - 1)
        for s in 0..<model.sequenceCount { try model.truncate(sequence: s, to: 0) }
    }

    /// A batched model over `model`'s weights for `batchSize` contexts at a time (at least 2); throws
    /// when the model cannot run several sequences per pass.
    public convenience init(model: CausalLanguageModel, batchSize: Int) throws {
        guard batchSize >= 2 else { throw EvaluationError.invalidInput("a batched evaluation needs a batch size of at least 2, got \(batchSize)") }
        guard let batchable = model as? BatchableLanguageModel else {
            throw EvaluationError.invalidInput("\(type(of: model)) cannot run several sequences per pass: use a batch size of 1")
        }
        try self.init(model: try batchable.makeBatchedModel(sequences: batchSize + 1))
    }

    /// Makes sequence i hold exactly `contexts[i]` (at most `capacity` contexts) and returns the
    /// next-token logits after each ([V] per context).
    public func logits(after contexts: [[Int32]]) throws -> [[Float]] {
        guard !contexts.isEmpty else { throw EvaluationError.invalidInput("no contexts to score after") }
        guard contexts.count <= capacity else {
            throw EvaluationError.invalidInput("\(contexts.count) contexts exceed the batch of \(capacity) sequences")
        }
        for (i, c) in contexts.enumerated() {
            guard !c.isEmpty else { throw EvaluationError.invalidInput("context \(i): cannot score after an empty sequence") }
            guard c.count <= model.maxContext else {
                throw EvaluationError.invalidInput("context \(i): \(c.count) tokens do not fit the model's context of \(model.maxContext)")
            }
        }
        if contexts.count > 1 {
            // what all contexts share, leaving at least one token of each to feed for its logits
            var shared = contexts.map(\.count).min()! - 1
            for c in contexts.dropFirst() { shared = min(shared, BatchedPrefixModel.commonPrefix(contexts[0], c)) }
            if shared > 0 { try holdPrefix(Array(contexts[0][..<shared])) }
        }
        var feeds: [SequenceFeed] = []
        for (i, c) in contexts.enumerated() {
            let own = min(BatchedPrefixModel.commonPrefix(cached[i], c), c.count - 1)
            let shared = min(BatchedPrefixModel.commonPrefix(prefix, c), c.count - 1)
            let keep = max(own, shared)
            if shared > own {
                try model.copyCache(from: prefixSequence, to: i, count: shared)
            } else {
                try model.truncate(sequence: i, to: own)
            }
            cached[i] = Array(c[..<keep])
            reusedTokens += keep
            feeds.append(SequenceFeed(sequence: i, tokens: Array(c[keep...])))
        }
        return try append(feeds)
    }

    /// Feeds each feed's tokens after what its sequence (< `capacity`) holds; logits per feed as
    /// `BatchedLanguageModel.forward`.
    public func append(_ feeds: [SequenceFeed]) throws -> [[Float]] {
        for f in feeds {
            guard f.sequence >= 0 && f.sequence < capacity else {
                throw EvaluationError.invalidInput("sequence \(f.sequence) is outside the batch of \(capacity)")
            }
            guard cached[f.sequence].count + f.tokens.count <= model.maxContext else {
                throw EvaluationError.invalidInput("\(cached[f.sequence].count + f.tokens.count) tokens do not fit the model's context of \(model.maxContext)")
            }
        }
        let logits = try model.forward(feeds)
        for f in feeds {
            cached[f.sequence] += f.tokens
            computedTokens += f.tokens.count
        }
        return logits
    }

    /// Natural-log probability of each continuation token given its request's context and the
    /// tokens before it, per request and continuation. Contexts go `capacity` at a time; a
    /// request's continuations of more than one token are then fed one after another after it (as
    /// `PrefixCachedModel.logProbabilities` does), for all the requests of the batch in one pass.
    public func logProbabilities(_ requests: [ScoringRequest]) throws -> [[[Double]]] {
        let v = model.vocabularySize
        for (i, r) in requests.enumerated() {
            for c in r.continuations {
                guard !c.isEmpty else { throw EvaluationError.invalidInput("request \(i): empty continuation") }
                for t in c where t < 0 || Int(t) >= v {
                    throw EvaluationError.invalidInput("request \(i): continuation token \(t) is outside the vocabulary of \(v)")
                }
            }
        }
        var out: [[[Double]]] = []
        out.reserveCapacity(requests.count)
        for start in stride(from: 0, to: requests.count, by: capacity) {
            let batch = Array(requests[start..<min(requests.count, start + capacity)])
            let first = try logits(after: batch.map(\.context))
            var scores = zip(batch, first).map { r, logits in
                r.continuations.map { c -> [Double] in
                    var row = logits
                    return [PrefixCachedModel.logProbability(of: c[0], in: &row, offset: 0, vocabulary: v)]
                }
            }
            for j in 0..<(batch.map(\.continuations.count).max() ?? 0) {
                let rest = batch.indices.filter { j < batch[$0].continuations.count && batch[$0].continuations[j].count > 1 }
                if rest.isEmpty { continue }
                for i in rest { try model.truncate(sequence: i, to: batch[i].context.count); cached[i] = batch[i].context }
                let logits = try append(rest.map { SequenceFeed(sequence: $0, tokens: Array(batch[$0].continuations[j].dropLast()), allLogits: true) })
                for (i, var l) in zip(rest, logits) {
                    let c = batch[i].continuations[j]
                    for k in 1..<c.count { scores[i][j].append(PrefixCachedModel.logProbability(of: c[k], in: &l, offset: (k - 1) * v, vocabulary: v)) }
                }
            }
            out += scores
        }
        return out
    }

    /// Makes the shared-prefix sequence hold exactly `tokens`, computing only what it lacks.
    private func holdPrefix(_ tokens: [Int32]) throws {
        let common = BatchedPrefixModel.commonPrefix(prefix, tokens)
        try model.truncate(sequence: prefixSequence, to: common)
        prefix = Array(tokens[..<common])
        guard common < tokens.count else { return }
        _ = try model.forward([SequenceFeed(sequence: prefixSequence, tokens: Array(tokens[common...]))])
        prefix = tokens
        computedTokens += tokens.count - common
    }

    /// Length of the longest common prefix of `a` and `b`.
    static func commonPrefix(_ a: [Int32], _ b: [Int32]) -> Int {
        var n = 0
        let limit = min(a.count, b.count)
        while n < limit && a[n] == b[n] { n += 1 }
        return n
    }
}
