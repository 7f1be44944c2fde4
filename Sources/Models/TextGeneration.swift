import Foundation

/// Generation settings, as in llama.cpp and Hugging Face `generate`.
public struct GenerationOptions: Sendable {
    public var maxNewTokens = 128
    public var temperature: Float = 0
    public var topK = 0
    public var topP: Float = 1
    public var repetitionPenalty: Float = 1
    /// How many of the latest tokens the repetition penalty looks at.
    public var repetitionWindow = 64
    public var seed: UInt64 = 0
    public var stopTokens: Set<Int32> = []
    public init() {}
}

/// Prompt processing and token-by-token generation on any `CausalLanguageModel`, with timings.
public enum TextGeneration {
    public struct Stats: Sendable {
        public var promptTokens = 0
        public var generatedTokens = 0
        public var promptSeconds = 0.0
        public var generationSeconds = 0.0
        public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
        public var generationTokensPerSecond: Double { generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0 }
        public init() {}
    }

    /// Appends `prompt` to the model's cache (which may already hold earlier turns), then samples up
    /// to `maxNewTokens`, streaming each to `onToken` (return false to stop). Stops at a stop token
    /// (not emitted) or when the context is full. Afterwards the cache holds the prompt and every
    /// emitted token.
    @discardableResult
    public static func generate(model: CausalLanguageModel, prompt: [Int32], options: GenerationOptions,
                                onToken: (Int32) -> Bool = { _ in true }) throws -> Stats {
        guard !prompt.isEmpty else { throw ModelError.invalidInput("the prompt is empty") }
        guard model.position + prompt.count < model.maxContext else {
            throw ModelError.invalidInput("the prompt (\(prompt.count) tokens after \(model.position) cached) does not fit the context of \(model.maxContext)")
        }
        var sampler = try TokenSampler(temperature: options.temperature, topK: options.topK, topP: options.topP,
                                       repetitionPenalty: options.repetitionPenalty, seed: options.seed)
        var stats = Stats()
        var recent = Array(prompt.suffix(options.repetitionWindow))
        var t0 = Date()
        var logits = try model.forward(prompt, allLogits: false)
        stats.promptTokens = prompt.count
        stats.promptSeconds = Date().timeIntervalSince(t0)
        t0 = Date()
        while stats.generatedTokens < options.maxNewTokens {
            let next = sampler.next(logits: logits, recent: recent)
            if options.stopTokens.contains(next) { break }
            stats.generatedTokens += 1
            recent.append(next)
            if recent.count > options.repetitionWindow { recent.removeFirst(recent.count - options.repetitionWindow) }
            let goOn = onToken(next)
            guard model.position < model.maxContext else { break }
            logits = try model.forward([next], allLogits: false)
            if !goOn || model.position >= model.maxContext { break }
        }
        stats.generationSeconds = Date().timeIntervalSince(t0)
        return stats
    }
}
