/// One example as token ids: the prompt followed by the answer (which ends with the end token).
///
/// As a training row, input position `t` holds `tokens[t]` and its target is `tokens[t + 1]`;
/// only targets that are answer tokens are scored, so the row has `inputLength = tokens.count - 1`
/// positions of which the last `answerCount` are scored.
public struct TokenizedInstruction: Equatable, Sendable {
    /// Prompt ids then answer ids.
    public let tokens: [Int32]
    /// How many of `tokens` belong to the prompt (at least 1).
    public let promptCount: Int
    /// Prompt tokens dropped to fit the maximum sequence length (0 when nothing was cut).
    public let droppedPromptTokens: Int
    /// Source of the example, for messages.
    public let file: String
    public let line: Int

    public init(prompt: [Int32], answer: [Int32], droppedPromptTokens: Int = 0, file: String = "<inline>", line: Int = 0) {
        self.tokens = prompt + answer
        self.promptCount = prompt.count
        self.droppedPromptTokens = droppedPromptTokens
        self.file = file
        self.line = line
    }

    /// Scored tokens (the answer and its end token).
    public var answerCount: Int { tokens.count - promptCount }
    /// Positions the example occupies in a batch row (inputs are the tokens but the last).
    public var inputLength: Int { tokens.count - 1 }
    public var promptTokens: ArraySlice<Int32> { tokens[..<promptCount] }
    public var answerTokens: ArraySlice<Int32> { tokens[promptCount...] }

    /// Writes the example as one row of `seq` positions: inputs are the tokens but the last, then
    /// `padID`; targets are the next token on answer positions and -1 on prompt and pad positions.
    /// `seq` must be at least `inputLength`.
    func writeRow(inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>, seq: Int, padID: Int32) {
        let n = inputLength
        tokens.withUnsafeBufferPointer { t in
            for i in 0..<n {
                inputs[i] = t[i]
                targets[i] = i + 1 >= promptCount ? t[i + 1] : -1
            }
        }
        for i in n..<seq {
            inputs[i] = padID
            targets[i] = -1
        }
    }
}
