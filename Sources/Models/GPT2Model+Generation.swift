extension GPT2Model {
    /// Extends `prompt` by up to `maxNewTokens` tokens chosen by `sampler`, calling `onToken` for each
    /// new token (return false to stop). Stops early at any token in `stopTokens`. The context is
    /// cropped to the model's context length. Returns the new tokens.
    @discardableResult
    public func generate(prompt: [Int32], maxNewTokens: Int, sampler: inout TokenSampler, stopTokens: Set<Int32> = [],
                         onToken: (Int32) -> Bool = { _ in true }) throws -> [Int32] {
        guard !prompt.isEmpty else { throw ModelError.invalidInput("the prompt is empty") }
        var context = prompt
        var out: [Int32] = []
        for _ in 0..<maxNewTokens {
            let window = Array(context.suffix(config.contextLength))
            let next = sampler.next(logits: try lastLogits(tokens: window))
            if stopTokens.contains(next) { break }
            out.append(next)
            context.append(next)
            if !onToken(next) { break }
        }
        return out
    }
}
