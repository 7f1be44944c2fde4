import Models

/// Sampling options shared by `generate`, `chat` and `sample`.
enum GenerationArguments {
    static let usage = "[--max-tokens 128] [--temperature 0] [--top-k 0] [--top-p 1] [--repeat-penalty 1] [--seed 0]"

    static func parse(_ a: inout Arguments, defaultMax: Int = 128) throws -> GenerationOptions {
        var o = GenerationOptions()
        o.maxNewTokens = try a.int("max-tokens", default: defaultMax)
        o.temperature = try a.float("temperature", default: 0)
        o.topK = try a.int("top-k", default: 0)
        o.topP = try a.float("top-p", default: 1)
        o.repetitionPenalty = try a.float("repeat-penalty", default: 1)
        o.seed = UInt64(try a.int("seed", default: 0))
        return o
    }
}
