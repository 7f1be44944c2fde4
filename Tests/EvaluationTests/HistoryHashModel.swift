import Models

/// A causal model whose next-token logits are a fixed pseudo-random function of the whole token
/// history (no floating-point arithmetic to round differently), for exact tests of evaluation
/// bookkeeping: a token fed at the wrong position, or a wrong cached prefix, changes the logits.
/// Some histories strongly favour the end token or a line break, so generation stops at varied
/// lengths.
final class HistoryHashModel: BatchableLanguageModel {
    let vocabularySize: Int
    let maxContext: Int
    let endToken: Int32
    private(set) var tokens: [Int32] = []

    init(vocabularySize: Int, maxContext: Int = 512, endToken: Int32) {
        self.vocabularySize = vocabularySize
        self.maxContext = maxContext
        self.endToken = endToken
    }

    var position: Int { tokens.count }
    func reset() { tokens = [] }
    func truncate(to count: Int) throws { tokens = Array(tokens.prefix(max(0, count))) }

    func forward(_ new: [Int32], allLogits: Bool) throws -> [Float] {
        guard !new.isEmpty, tokens.count + new.count <= maxContext else { throw ModelError.invalidInput("bad feed") }
        var out: [Float] = []
        for (i, t) in new.enumerated() {
            tokens.append(t)
            if allLogits || i == new.count - 1 { out += logits(after: tokens) }
        }
        return out
    }

    func makeBatchedModel(sequences: Int) throws -> BatchedLanguageModel {
        BatchedHistoryHashModel(model: self, sequences: sequences)
    }

    /// Next-token logits after `history`.
    func logits(after history: [Int32]) -> [Float] {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for t in history { h = (h ^ UInt64(UInt32(bitPattern: t))) &* 0x100_0000_01b3 }
        var out = (0..<vocabularySize).map { i -> Float in
            var z = h &+ UInt64(i) &* 0x9e37_79b9_7f4a_7c15
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return Float(z >> 40) / Float(1 << 24) * 4
        }
        if h % 5 == 0 { out[Int(endToken)] += 6 }
        if h % 7 == 1 { out[10] += 6 }  // "\n"
        return out
    }
}
