/// How an instruction example becomes the prompt text the model reads and the answer it learns.
///
/// - `fingpt` (default): exactly `Instruction: {instruction}\nInput: {input}\nAnswer: `, then the
///   answer followed by the tokenizer's end-of-sequence token (scored, so the model learns to stop).
/// - `custom(_:)`: a user template with `{instruction}` and/or `{input}` placeholders; the answer
///   and end-of-sequence token follow as for `fingpt`.
/// - `chatML(system:)`: for instruct models such as SmolLM2,
///   `[<|im_start|>system\n{system}<|im_end|>\n]<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n`
///   then the answer followed by `<|im_end|>` (the end-of-turn token generation stops on). The user
///   turn is the instruction, plus a newline and the input when the input is not empty. This is the
///   layout `Models.ChatTemplate.chatML.render` produces for a (system,) user message with the
///   generation prompt opened; the Data module cannot import Models, so the two must be kept
///   consistent by hand.
///
/// Prompt/completion rows (`InstructionExample.Prompt.text`) are already prompts: `fingpt` and
/// `custom` use them verbatim, `chatML` makes them the user turn.
public struct PromptTemplate: Equatable, Sendable {
    public enum Style: Equatable, Sendable {
        case fingpt
        /// A validated template string (see `PromptTemplate.custom(_:)`).
        case custom(String)
        case chatML(system: String?)
    }

    /// The FinGPT prompt format.
    public static let fingptFormat = "Instruction: {instruction}\nInput: {input}\nAnswer: "
    /// ChatML turn markers.
    public static let chatMLStart = "<|im_start|>"
    public static let chatMLEnd = "<|im_end|>"

    public let style: Style

    private init(style: Style) { self.style = style }

    /// The FinGPT template.
    public static let fingpt = PromptTemplate(style: .fingpt)

    /// ChatML with an optional system message (none: no system turn, as `ChatSession` does).
    public static func chatML(system: String? = nil) -> PromptTemplate { PromptTemplate(style: .chatML(system: system)) }

    /// A custom template. Placeholders are `{instruction}` and `{input}`; at least one must occur.
    /// Any other `{identifier}` is refused as a likely typo; braces that do not enclose an
    /// identifier are literal text.
    public static func custom(_ template: String) throws -> PromptTemplate {
        let parts = try CustomTemplateParser.parse(template)
        guard parts.contains(where: { if case .placeholder = $0 { return true } else { return false } }) else {
            throw InstructionDataError.invalidTemplate("'\(template)' has neither {instruction} nor {input}")
        }
        return PromptTemplate(style: .custom(template))
    }

    /// Parses a command-line template: `fingpt`, `chatml`, `chatml:SYSTEM MESSAGE`, or a custom
    /// template in which the escapes `\n`, `\t` and `\\` stand for newline, tab and backslash.
    public init(parsing spec: String) throws {
        let lower = spec.lowercased()
        if lower == "fingpt" {
            self = .fingpt
        } else if lower == "chatml" {
            self = .chatML()
        } else if lower.hasPrefix("chatml:") {
            self = .chatML(system: Self.unescape(String(spec.dropFirst("chatml:".count))))
        } else {
            self = try .custom(Self.unescape(spec))
        }
    }

    /// Whether the template writes ChatML turn markers (the tokenizer must have them as special tokens).
    public var usesChatMarkers: Bool { if case .chatML = style { return true } else { return false } }

    /// The prompt pieces for `example` (everything the model reads before the answer).
    public func prompt(for example: InstructionExample) -> PromptText {
        switch style {
        case .fingpt:
            return fill(Self.fingptFormat, example.prompt)
        case .custom(let template):
            return fill(template, example.prompt)
        case .chatML(let system):
            var p = PromptText()
            if let system {
                p.append(.special(Self.chatMLStart)); p.append(.text("system\n" + system))
                p.append(.special(Self.chatMLEnd)); p.append(.text("\n"))
            }
            p.append(.special(Self.chatMLStart)); p.append(.text("user\n" + userTurn(example.prompt)))
            p.append(.special(Self.chatMLEnd)); p.append(.text("\n"))
            p.append(.special(Self.chatMLStart)); p.append(.text("assistant\n"))
            return p
        }
    }

    /// The answer pieces for `example`: the answer text and the end token, all of them scored.
    public func answer(for example: InstructionExample) -> PromptText {
        switch style {
        case .fingpt, .custom: return PromptText([.text(example.answer), .endOfSequence])
        case .chatML: return PromptText([.text(example.answer), .special(Self.chatMLEnd)])
        }
    }

    private func userTurn(_ prompt: InstructionExample.Prompt) -> String {
        switch prompt {
        case .fields(let instruction, let input): return input.isEmpty ? instruction : instruction + "\n" + input
        case .text(let text): return text
        }
    }

    private func fill(_ template: String, _ prompt: InstructionExample.Prompt) -> PromptText {
        switch prompt {
        case .text(let text):
            return PromptText([.text(text)])
        case .fields(let instruction, let input):
            // The template was validated when it was made, so parsing cannot fail here; fall back to
            // the literal template rather than trap if it somehow does.
            let parts = (try? CustomTemplateParser.parse(template)) ?? [.literal(template)]
            var s = ""
            for part in parts {
                switch part {
                case .literal(let t): s += t
                case .placeholder(.instruction): s += instruction
                case .placeholder(.input): s += input
                }
            }
            return PromptText([.text(s)])
        }
    }

    static func unescape(_ s: String) -> String {
        var out = ""
        var escaping = false
        for c in s {
            if escaping {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\\": out.append("\\")
                default: out.append("\\"); out.append(c)
                }
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else {
                out.append(c)
            }
        }
        if escaping { out.append("\\") }
        return out
    }
}
