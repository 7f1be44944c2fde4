import Foundation
import Models
import Tokenizers

/// Runs the FinGPT sentiment benchmark on a model: builds each example's prompt
/// (`Instruction: …\nInput: …\nAnswer: `, optionally wrapped as a chat user turn), then either
/// decodes a short answer greedily and reads its label, or ranks the three label words by
/// log-likelihood.
///
/// With a batch size of 1, examples run one after another on the model's key/value cache; the part
/// of a prompt shared with the previous one (the instruction) and the prompt shared by the three
/// label words are computed once. With a larger batch size, that many examples run together through
/// a `BatchedLanguageModel`: their shared instruction is computed once per batch, their prompts in
/// one pass, and their answers generated (or label words scored) for all of them in each pass,
/// each sequence stopping on its own. Results are bit for bit the same for every batch size when
/// the model computes each position independently of what it is batched with
/// (`LlamaRunner.batchInvariant`, which `fingpt eval` sets); otherwise scores agree to float
/// rounding, which can still turn a greedy answer where two tokens are all but tied.
public final class SentimentEvaluator {
    public struct Options: Sendable {
        public var scoring: SentimentScoring = .generate
        /// Wrap the FinGPT prompt as the user turn of this chat template (instruct models).
        public var chatTemplate: ChatTemplate?
        /// Longest generated answer (FinGPT's later benchmark scripts allow 10 new tokens).
        public var maxNewTokens = 10
        /// Examples run through the model together (1: one after another on its own cache).
        public var batchSize = 1
        public init(scoring: SentimentScoring = .generate, chatTemplate: ChatTemplate? = nil, maxNewTokens: Int = 10, batchSize: Int = 1) {
            self.scoring = scoring
            self.chatTemplate = chatTemplate
            self.maxNewTokens = maxNewTokens
            self.batchSize = batchSize
        }
    }

    public let tokenizer: BPETokenizer
    public let options: Options
    let cache: PrefixCachedModel
    /// The batched model when `options.batchSize` > 1.
    let batch: BatchedPrefixModel?
    let stopTokens: Set<Int32>

    public init(model: CausalLanguageModel, tokenizer: BPETokenizer, options: Options) throws {
        guard options.maxNewTokens >= 1 else { throw EvaluationError.invalidInput("maxNewTokens must be at least 1, got \(options.maxNewTokens)") }
        guard options.batchSize >= 1 else { throw EvaluationError.invalidInput("batch size must be at least 1, got \(options.batchSize)") }
        guard tokenizer.vocabularySize <= model.vocabularySize else {
            throw EvaluationError.invalidInput("the tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(model.vocabularySize)")
        }
        self.tokenizer = tokenizer
        self.options = options
        cache = PrefixCachedModel(model: model)
        batch = options.batchSize > 1 ? try BatchedPrefixModel(model: model, batchSize: options.batchSize) : nil
        var stops = Set([tokenizer.eosID, tokenizer.endOfTextID].compactMap { $0 })
        if let template = options.chatTemplate, let end = tokenizer.id(of: template.endOfTurn) { stops.insert(end) }
        stopTokens = stops
    }

    /// The text the model sees for `example`.
    public func promptText(_ example: SentimentExample) -> String {
        let prompt = SentimentInstruction.prompt(instruction: example.instruction, input: example.input)
        guard let template = options.chatTemplate else { return prompt }
        return template.render([.init(role: "user", content: prompt)], addGenerationPrompt: true)
    }

    /// Evaluates `examples` in order (`options.batchSize` at a time); `progress(done, total)` after each.
    public func evaluate(_ examples: [SentimentExample], progress: ((Int, Int) -> Void)? = nil) throws -> SentimentReport {
        let start = Date()
        let (computed0, reused0) = tokenCounts
        var generated = 0
        var predictions: [SentimentPrediction] = []
        predictions.reserveCapacity(examples.count)
        for first in stride(from: 0, to: examples.count, by: options.batchSize) {
            let range = first..<min(examples.count, first + options.batchSize)
            switch options.scoring {
            case .generate:
                let (batchPredictions, count) = try generate(examples, range)
                predictions += batchPredictions
                generated += count
            case .likelihood:
                predictions += try rank(examples, range)
            }
            for i in range { progress?(i + 1, examples.count) }
        }
        let (computed, reused) = tokenCounts
        return try SentimentReport(scoring: options.scoring, chatTemplate: options.chatTemplate != nil, batchSize: options.batchSize,
                                   seconds: Date().timeIntervalSince(start), computedTokens: computed - computed0,
                                   reusedTokens: reused - reused0, generatedTokens: generated, predictions: predictions)
    }

    /// Positions computed and reused so far by the model in use.
    var tokenCounts: (computed: Int, reused: Int) {
        if let batch { return (batch.computedTokens, batch.reusedTokens) }
        return (cache.computedTokens, cache.reusedTokens)
    }

    /// Greedy answers for `examples[range]` and the number of tokens generated: one example on the
    /// cached model, or all of them through the batched model, each sequence stopping on its own.
    func generate(_ examples: [SentimentExample], _ range: Range<Int>) throws -> ([SentimentPrediction], Int) {
        var prompts: [[Int32]] = []
        for i in range {
            prompts.append(try located(examples[i], index: i) { try prompt(examples[i]) })
        }
        guard let batch else {
            let i = range.lowerBound
            let answer = try located(examples[i], index: i) { try generate(after: prompts[0]) }
            return ([prediction(examples[i], index: i, answer: answer, promptTokens: prompts[0].count)], answer.count)
        }
        var logits = try batch.logits(after: prompts)
        var answers = [[Int32]](repeating: [], count: prompts.count)
        var active = Array(prompts.indices)
        while !active.isEmpty {
            var feeds: [SequenceFeed] = []
            for s in active {
                let next = SentimentEvaluator.argmax(logits[s])
                if stopTokens.contains(next) { continue }
                answers[s].append(next)
                if answers[s].count == options.maxNewTokens || endsAnswer(answers[s]) { continue }
                feeds.append(SequenceFeed(sequence: s, tokens: [next]))
            }
            if feeds.isEmpty { break }
            for (feed, l) in zip(feeds, try batch.append(feeds)) { logits[feed.sequence] = l }
            active = feeds.map(\.sequence)
        }
        let predictions = zip(range, answers).enumerated().map { s, pair in
            prediction(examples[pair.0], index: pair.0, answer: pair.1, promptTokens: prompts[s].count)
        }
        return (predictions, answers.reduce(0) { $0 + $1.count })
    }

    /// The prompt's tokens, checked to leave room for the answer.
    func prompt(_ example: SentimentExample) throws -> [Int32] {
        let prompt = tokenizer.encode(promptText(example), allowSpecial: options.chatTemplate != nil)
        let context = batch?.model.maxContext ?? cache.model.maxContext
        guard prompt.count + options.maxNewTokens <= context else {
            throw EvaluationError.invalidInput("prompt of \(prompt.count) tokens plus \(options.maxNewTokens) answer tokens exceeds the context of \(context)")
        }
        return prompt
    }

    /// Greedy decoding on the cached model until a stop token, a line break after some answer
    /// text, or `maxNewTokens`.
    func generate(after prompt: [Int32]) throws -> [Int32] {
        var logits = try cache.logits(after: prompt)
        var answer: [Int32] = []
        while answer.count < options.maxNewTokens {
            let next = SentimentEvaluator.argmax(logits)
            if stopTokens.contains(next) { break }
            answer.append(next)
            if answer.count == options.maxNewTokens || endsAnswer(answer) { break }
            logits = try cache.append([next], allLogits: false)
        }
        return answer
    }

    /// Whether the answer so far holds a line break after some non-blank text.
    func endsAnswer(_ answer: [Int32]) -> Bool {
        let text = tokenizer.decode(answer, skipSpecial: true)
        guard let newline = text.firstIndex(of: "\n") else { return false }
        return !text[..<newline].allSatisfy(\.isWhitespace)
    }

    func prediction(_ example: SentimentExample, index: Int, answer: [Int32], promptTokens: Int) -> SentimentPrediction {
        let text = tokenizer.decode(answer, skipSpecial: true)
        return SentimentPrediction(index: index, example: example, predicted: SentimentLabel.normalize(answer: text),
                                   answer: text, logLikelihoods: nil, promptTokens: promptTokens)
    }

    /// For each of `examples[range]`, the label word with the highest summed log-probability after
    /// the prompt (ties: the first of negative, neutral, positive).
    func rank(_ examples: [SentimentExample], _ range: Range<Int>) throws -> [SentimentPrediction] {
        let allowSpecial = options.chatTemplate != nil
        var pairs: [[ContextContinuation]] = []
        for i in range {
            pairs.append(try located(examples[i], index: i) {
                try SentimentLabel.allCases.map {
                    try ContextContinuation(context: promptText(examples[i]), continuation: $0.rawValue, tokenizer: tokenizer, allowSpecial: allowSpecial)
                }
            })
        }
        guard let batch else {
            let i = range.lowerBound
            let scores = try located(examples[i], index: i) {
                try pairs[0].map { try cache.logProbabilities(of: $0.continuation, after: $0.context).reduce(0, +) }
            }
            return [ranked(examples[i], index: i, scores: scores, promptTokens: pairs[0].last?.context.count ?? 0)]
        }
        let groups = pairs.map { ScoringRequest.grouping($0) }
        let logProbabilities = try batch.logProbabilities(groups.flatMap(\.requests))
        var first = 0
        return zip(range, zip(pairs, groups)).map { i, item in
            let (examplePairs, group) = item
            defer { first += group.requests.count }
            let scores = group.indices.map { logProbabilities[first + $0.request][$0.continuation].reduce(0, +) }
            return ranked(examples[i], index: i, scores: scores, promptTokens: examplePairs.last?.context.count ?? 0)
        }
    }

    /// The prediction for label-word `scores` in the order of `SentimentLabel.allCases`.
    func ranked(_ example: SentimentExample, index: Int, scores: [Double], promptTokens: Int) -> SentimentPrediction {
        var best: (label: SentimentLabel, score: Double)?
        var named: [String: Double] = [:]
        for (label, score) in zip(SentimentLabel.allCases, scores) {
            named[label.rawValue] = score
            if best.map({ score > $0.score }) ?? true { best = (label, score) }
        }
        return SentimentPrediction(index: index, example: example, predicted: best?.label ?? .neutral, answer: nil,
                                   logLikelihoods: named, promptTokens: promptTokens)
    }

    /// `body`'s result, its evaluation errors prefixed with the example they concern.
    func located<T>(_ example: SentimentExample, index: Int, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as EvaluationError {
            throw EvaluationError.invalidInput("example \(index) (line \(example.line)\(example.source.map { " of \($0)" } ?? "")): \(e)")
        }
    }

    /// Index of the largest logit (the first on ties).
    static func argmax(_ logits: [Float]) -> Int32 {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return Int32(best)
    }
}
