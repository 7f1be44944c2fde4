/// Chat prompt formats. SmolLM2 (and many instruct models) use ChatML:
/// `<|im_start|>role\ncontent<|im_end|>\n`, with the assistant turn opened for the reply.
public enum ChatTemplate: String, Sendable {
    case chatML

    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String
        public init(role: String, content: String) { self.role = role; self.content = content }
    }

    /// The text for `messages`, ending with an open assistant turn when `addGenerationPrompt`.
    public func render(_ messages: [Message], addGenerationPrompt: Bool = true) -> String {
        switch self {
        case .chatML:
            var s = ""
            for m in messages { s += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addGenerationPrompt { s += "<|im_start|>assistant\n" }
            return s
        }
    }

    /// The token text that ends an assistant turn.
    public var endOfTurn: String {
        switch self { case .chatML: return "<|im_end|>" }
    }
}
