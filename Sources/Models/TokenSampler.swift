import Foundation
import Tensor

/// Chooses the next token from logits: greedy when temperature is 0, otherwise softmax sampling at a
/// temperature, optionally restricted to the top-k tokens and to the smallest set whose probability
/// reaches top-p (nucleus). A repetition penalty > 1 first divides positive (multiplies negative)
/// logits of tokens seen recently, as llama.cpp and Hugging Face do.
public struct TokenSampler: Sendable {
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    public var repetitionPenalty: Float = 1
    public var rng: RandomGenerator

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, repetitionPenalty: Float = 1, seed: UInt64 = 0) throws {
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else { throw ModelError.invalidInput("repetition penalty must be > 0, got \(repetitionPenalty)") }
        self.repetitionPenalty = repetitionPenalty
        guard temperature >= 0, temperature.isFinite else { throw ModelError.invalidInput("temperature must be >= 0, got \(temperature)") }
        guard topK >= 0 else { throw ModelError.invalidInput("top-k must be >= 0, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw ModelError.invalidInput("top-p must be in (0, 1], got \(topP)") }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.rng = RandomGenerator(seed: seed)
    }

    /// The next token given logits and the recently seen tokens (for the repetition penalty).
    public mutating func next(logits raw: [Float], recent: [Int32] = []) -> Int32 {
        precondition(!raw.isEmpty)
        var logits = raw
        if repetitionPenalty != 1 {
            for t in Set(recent) where Int(t) < logits.count && t >= 0 {
                let v = logits[Int(t)]
                logits[Int(t)] = v > 0 ? v / repetitionPenalty : v * repetitionPenalty
            }
        }
        if temperature == 0 {
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        var candidates = Array(0..<logits.count)
        if topK > 0 && topK < logits.count {
            candidates.sort { logits[$0] > logits[$1] }
            candidates = Array(candidates.prefix(topK))
        }
        let maxLogit = candidates.map { logits[$0] }.max()!
        var probs = candidates.map { Foundation.exp(Double(logits[$0] - maxLogit) / Double(temperature)) }
        let z = probs.reduce(0, +)
        probs = probs.map { $0 / z }
        if topP < 1 {
            let order = probs.indices.sorted { probs[$0] > probs[$1] }
            var kept: [Int] = [], mass = 0.0
            for i in order {
                kept.append(i)
                mass += probs[i]
                if mass >= Double(topP) { break }
            }
            candidates = kept.map { candidates[$0] }
            probs = kept.map { probs[$0] / mass }
        }
        let u = Double(rng.nextFloat())
        var acc = 0.0
        for (i, p) in probs.enumerated() {
            acc += p
            if u < acc { return Int32(candidates[i]) }
        }
        return Int32(candidates.last!)
    }
}
