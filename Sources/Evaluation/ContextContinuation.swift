import Tokenizers

/// A context and the continuation to score after it, as token ids. Built the way evaluation
/// harnesses do it so that the continuation is tokenized as it would be in running text: spaces
/// that end the context move to the front of the continuation ("Answer: " + "positive" scores the
/// token " positive"), and the continuation is what follows the context's own token count in the
/// encoding of the whole text.
public struct ContextContinuation: Equatable, Sendable {
    public var context: [Int32]
    public var continuation: [Int32]

    public init(context: [Int32], continuation: [Int32]) {
        self.context = context
        self.continuation = continuation
    }

    /// Encodes `context` + `continuation` with `tokenizer` (its default BOS handling; special-token
    /// text is parsed when `allowSpecial`).
    public init(context: String, continuation: String, tokenizer: BPETokenizer, allowSpecial: Bool) throws {
        var ctx = Substring(context), cont = continuation
        while ctx.last == " " { ctx = ctx.dropLast(); cont = " " + cont }
        let whole = tokenizer.encode(String(ctx) + cont, allowSpecial: allowSpecial)
        let contextTokens = tokenizer.encode(String(ctx), allowSpecial: allowSpecial)
        guard !contextTokens.isEmpty else {
            throw EvaluationError.invalidInput("the context is empty and the tokenizer adds no BOS token, so the first continuation token has nothing to condition on")
        }
        guard whole.count > contextTokens.count else {
            throw EvaluationError.invalidInput("continuation '\(continuation)' adds no tokens after its context")
        }
        self.context = contextTokens
        self.continuation = Array(whole[contextTokens.count...])
    }
}
