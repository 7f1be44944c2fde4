import Foundation
import Models
import Tokenizers

/// A multi-turn conversation that keeps the model's cache between turns: each turn feeds only the
/// new messages' tokens.
public final class ChatSession {
    public let loaded: LoadedLanguageModel
    public let template: ChatTemplate
    public var options: GenerationOptions
    public private(set) var messages: [ChatTemplate.Message] = []
    var cachedText = ""

    public init(loaded: LoadedLanguageModel, system: String?, template: ChatTemplate = .chatML, options: GenerationOptions) {
        self.loaded = loaded
        self.template = template
        self.options = options
        if let system { messages.append(.init(role: "system", content: system)) }
        if let end = loaded.tokenizer.id(of: template.endOfTurn) { self.options.stopTokens.insert(end) }
        if let eos = loaded.tokenizer.eosID { self.options.stopTokens.insert(eos) }
        loaded.model.reset()
    }

    /// Adds a user message, streams the reply's text pieces to `onText`, and returns the reply.
    @discardableResult
    public func send(_ user: String, onText: (String) -> Void) throws -> (reply: String, stats: TextGeneration.Stats) {
        messages.append(.init(role: "user", content: user))
        let full = template.render(messages, addGenerationPrompt: true)
        // feed only what the cache has not seen yet
        precondition(full.hasPrefix(cachedText))
        let newText = String(full.dropFirst(cachedText.count))
        let ids = loaded.tokenizer.encode(newText, allowSpecial: true, addBOS: false)
        var decoder = StreamingDecoder(tokenizer: loaded.tokenizer)
        var reply = ""
        let stats = try TextGeneration.generate(model: loaded.model, prompt: ids, options: options) { id in
            let piece = decoder.push(id)
            reply += piece
            onText(piece)
            return true
        }
        let rest = decoder.finish()
        reply += rest
        onText(rest)
        messages.append(.init(role: "assistant", content: reply))
        // the cache holds the prompt and the reply's tokens except the final stop token; close the turn
        let closing = template.endOfTurn + "\n"
        let closingIDs = loaded.tokenizer.encode(closing, allowSpecial: true, addBOS: false)
        if loaded.model.position + closingIDs.count < loaded.model.maxContext {
            _ = try loaded.model.forward(closingIDs, allLogits: false)
        }
        cachedText = template.render(messages, addGenerationPrompt: false)
        return (reply, stats)
    }
}
