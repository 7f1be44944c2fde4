import Foundation
import Models
import Tokenizers

/// Runs the FinGPT sentiment benchmark on a model: builds each example's prompt
/// (`Instruction: …\nInput: …\nAnswer: `, optionally wrapped as a chat user turn), then either
/// decodes a short answer greedily and reads its label, or ranks the three label words by
/// log-likelihood. Examples run one after another on the model's key/value cache; the part of a
/// prompt shared with the previous one (the instruction) and the prompt shared by the three label
/// words are computed once.
public final class SentimentEvaluator {
    public struct Options: Sendable {
        public var scoring: SentimentScoring = .generate
        /// Wrap the FinGPT prompt as the user turn of this chat template (instruct models).
        public var chatTemplate: ChatTemplate?
        /// Longest generated answer (FinGPT's later benchmark scripts allow 10 new tokens).
        public var maxNewTokens = 10
        public init(scoring: SentimentScoring = .generate, chatTemplate: ChatTemplate? = nil, maxNewTokens: Int = 10) {
            self.scoring = scoring
            self.chatTemplate = chatTemplate
            self.maxNewTokens = maxNewTokens
        }
    }

    public let tokenizer: BPETokenizer
    public let options: Options
    let cache: PrefixCachedModel
    let stopTokens: Set<Int32>

    public init(model: CausalLanguageModel, tokenizer: BPETokenizer, options: Options) throws {
        guard options.maxNewTokens >= 1 else { throw EvaluationError.invalidInput("maxNewTokens must be at least 1, got \(options.maxNewTokens)") }
        guard tokenizer.vocabularySize <= model.vocabularySize else {
            throw EvaluationError.invalidInput("the tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(model.vocabularySize)")
        }
        self.tokenizer = tokenizer
        self.options = options
        cache = PrefixCachedModel(model: model)
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

    /// Evaluates `examples` in order; `progress(done, total)` after each.
    public func evaluate(_ examples: [SentimentExample], progress: ((Int, Int) -> Void)? = nil) throws -> SentimentReport {
        let start = Date()
        let computed0 = cache.computedTokens, reused0 = cache.reusedTokens
        var generated = 0
        var predictions: [SentimentPrediction] = []
        predictions.reserveCapacity(examples.count)
        for (i, example) in examples.enumerated() {
            do {
                switch options.scoring {
                case .generate:
                    let (prediction, count) = try generate(example, index: i)
                    predictions.append(prediction)
                    generated += count
                case .likelihood:
                    predictions.append(try rank(example, index: i))
                }
            } catch let e as EvaluationError {
                throw EvaluationError.invalidInput("example \(i) (line \(example.line)\(example.source.map { " of \($0)" } ?? "")): \(e)")
            }
            progress?(i + 1, examples.count)
        }
        return try SentimentReport(scoring: options.scoring, chatTemplate: options.chatTemplate != nil,
                                   seconds: Date().timeIntervalSince(start), computedTokens: cache.computedTokens - computed0,
                                   reusedTokens: cache.reusedTokens - reused0, generatedTokens: generated, predictions: predictions)
    }

    /// Greedy decoding until a stop token, a line break after some answer text, or `maxNewTokens`.
    func generate(_ example: SentimentExample, index: Int) throws -> (SentimentPrediction, Int) {
        let prompt = tokenizer.encode(promptText(example), allowSpecial: options.chatTemplate != nil)
        guard prompt.count + options.maxNewTokens <= cache.model.maxContext else {
            throw EvaluationError.invalidInput("prompt of \(prompt.count) tokens plus \(options.maxNewTokens) answer tokens exceeds the context of \(cache.model.maxContext)")
        }
        var logits = try cache.logits(after: prompt)
        var answer: [Int32] = []
        while answer.count < options.maxNewTokens {
            let next = SentimentEvaluator.argmax(logits)
            if stopTokens.contains(next) { break }
            answer.append(next)
            let text = tokenizer.decode(answer, skipSpecial: true)
            if let newline = text.firstIndex(of: "\n"), !text[..<newline].allSatisfy(\.isWhitespace) { break }
            if answer.count == options.maxNewTokens { break }
            logits = try cache.append([next], allLogits: false)
        }
        let text = tokenizer.decode(answer, skipSpecial: true)
        let prediction = SentimentPrediction(index: index, example: example, predicted: SentimentLabel.normalize(answer: text),
                                             answer: text, logLikelihoods: nil, promptTokens: prompt.count)
        return (prediction, answer.count)
    }

    /// The label word with the highest summed log-probability after the prompt (ties: the first
    /// of negative, neutral, positive).
    func rank(_ example: SentimentExample, index: Int) throws -> SentimentPrediction {
        let prompt = promptText(example)
        let allowSpecial = options.chatTemplate != nil
        var scores: [String: Double] = [:]
        var best: (label: SentimentLabel, score: Double)?
        var promptTokens = 0
        for label in SentimentLabel.allCases {
            let pair = try ContextContinuation(context: prompt, continuation: label.rawValue, tokenizer: tokenizer, allowSpecial: allowSpecial)
            let score = try cache.logProbabilities(of: pair.continuation, after: pair.context).reduce(0, +)
            scores[label.rawValue] = score
            promptTokens = pair.context.count
            if best.map({ score > $0.score }) ?? true { best = (label, score) }
        }
        return SentimentPrediction(index: index, example: example, predicted: best?.label ?? .neutral, answer: nil,
                                   logLikelihoods: scores, promptTokens: promptTokens)
    }

    /// Index of the largest logit (the first on ties).
    static func argmax(_ logits: [Float]) -> Int32 {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return Int32(best)
    }
}
