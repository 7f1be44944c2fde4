import Foundation
import Models
import Tensor

/// Perplexity of a token sequence with a sliding window (Hugging Face's recipe): windows of
/// `window` tokens start every `stride` tokens; each window scores only the targets not scored by
/// an earlier window, so every token after the first is predicted exactly once, with up to
/// `window - stride` tokens of context carried over.
public enum Perplexity {
    public struct Window: Codable, Sendable {
        public var begin: Int
        public var end: Int
        public var scored: Int
        public var nll: Double
    }

    public struct Result: Codable, Sendable {
        public var tokens: Int
        public var scored: Int
        public var nll: Double
        public var windows: [Window]
        public var meanNLL: Double { scored > 0 ? nll / Double(scored) : .nan }
        public var perplexity: Double { Foundation.exp(meanNLL) }
    }

    public static func evaluate(model: CausalLanguageModel, tokens: [Int32], window: Int, stride: Int,
                                progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        guard tokens.count >= 2 else { throw ModelError.invalidInput("perplexity needs at least 2 tokens, got \(tokens.count)") }
        guard window >= 2, window <= model.maxContext else {
            throw ModelError.invalidInput("window \(window) must be in 2...\(model.maxContext) (the model's context)")
        }
        guard stride >= 1, stride <= window else { throw ModelError.invalidInput("stride \(stride) must be in 1...\(window)") }
        let v = model.vocabularySize
        var result = Result(tokens: tokens.count, scored: 0, nll: 0, windows: [])
        var prevEnd = 0
        var begin = 0
        while prevEnd < tokens.count {
            let end = min(begin + window, tokens.count)
            model.reset()
            var logits = try model.forward(Array(tokens[begin..<end]), allLogits: true)
            let firstTarget = max(prevEnd, begin + 1)
            var w = Window(begin: begin, end: end, scored: 0, nll: 0)
            logits.withUnsafeMutableBufferPointer { lp in
                for t in firstTarget..<end {
                    let row = lp.baseAddress! + (t - 1 - begin) * v
                    let target = Int(tokens[t])
                    let targetLogit = row[target]
                    let lse = Kernels.softmaxInPlace(row, count: v)
                    w.nll += Double(lse - targetLogit)
                    w.scored += 1
                }
            }
            result.windows.append(w)
            result.nll += w.nll
            result.scored += w.scored
            prevEnd = end
            progress?(end, tokens.count)
            if end == tokens.count { break }
            begin += stride
        }
        return result
    }
}
