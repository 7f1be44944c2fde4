import Foundation
import Models

extension Perplexity {
    /// One document's sliding-window result.
    public struct DocumentResult: Codable, Sendable {
        public var index: Int
        public var tokens: Int
        public var scored: Int
        public var nll: Double
        public var meanNLL: Double
        public var perplexity: Double
        public var windows: [Window]

        public init(index: Int, result: Result) {
            self.index = index
            tokens = result.tokens
            scored = result.scored
            nll = result.nll
            meanNLL = result.meanNLL
            perplexity = result.perplexity
            windows = result.windows
        }
    }

    /// Per-document results and the pooled totals: perplexity = exp(sum of NLL / scored tokens).
    /// Documents shorter than 2 tokens are counted in `skippedDocuments` and not scored.
    public struct DocumentsResult: Codable, Sendable {
        public var documents: [DocumentResult]
        public var skippedDocuments: Int
        public var tokens: Int
        public var scored: Int
        public var nll: Double
        public var meanNLL: Double
        public var perplexity: Double
    }

    /// Splits text at lines holding only `separator` (the corpus's `<|endoftext|>` lines); each
    /// document keeps its text without the surrounding line breaks; empty documents are dropped.
    public static func documents(in text: String, separator: String = "<|endoftext|>") -> [String] {
        var docs: [String] = [], current: [Substring] = []
        func flush() {
            let doc = current.joined(separator: "\n").trimmingCharacters(in: .newlines)
            if !doc.isEmpty { docs.append(doc) }
            current = []
        }
        for (_, line) in TextLines.split(text) {
            if line.trimmingCharacters(in: .whitespaces) == separator { flush() } else { current.append(line) }
        }
        flush()
        return docs
    }

    /// Each document scored on its own (no window spans two documents), then pooled.
    /// `progress(done, total)` counts documents.
    public static func evaluate(model: CausalLanguageModel, documents: [[Int32]], window: Int, stride: Int,
                                progress: ((Int, Int) -> Void)? = nil) throws -> DocumentsResult {
        var results: [DocumentResult] = []
        var skipped = 0, tokens = 0, scored = 0, nll = 0.0
        for (i, doc) in documents.enumerated() {
            tokens += doc.count
            if doc.count < 2 {
                skipped += 1
            } else {
                let r = try evaluate(model: model, tokens: doc, window: window, stride: stride)
                results.append(DocumentResult(index: i, result: r))
                scored += r.scored
                nll += r.nll
            }
            progress?(i + 1, documents.count)
        }
        guard scored > 0 else { throw EvaluationError.invalidInput("no document has the 2 tokens perplexity needs") }
        return DocumentsResult(documents: results, skippedDocuments: skipped, tokens: tokens, scored: scored, nll: nll,
                               meanNLL: nll / Double(scored), perplexity: Foundation.exp(nll / Double(scored)))
    }
}
