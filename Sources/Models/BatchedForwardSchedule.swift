/// Checks the feeds of a batched forward call and splits them into passes of at most `maxChunk`
/// tokens per sequence (the chunking of the single-sequence runners, which bounds activation
/// memory); then puts each feed's logits together from its segments.
struct BatchedForwardSchedule {
    let feeds: [SequenceFeed]
    let passes: [BatchedPass]

    /// - positions: the cached positions of each sequence before the call.
    init(_ feeds: [SequenceFeed], positions: [Int], maxContext: Int, vocabularySize: Int, maxChunk: Int) throws {
        guard !feeds.isEmpty else { throw ModelError.invalidInput("no sequences to process") }
        var seen = Set<Int>()
        for (i, f) in feeds.enumerated() {
            guard f.sequence >= 0 && f.sequence < positions.count else {
                throw ModelError.invalidInput("feed \(i): sequence \(f.sequence) is outside 0..<\(positions.count)")
            }
            guard seen.insert(f.sequence).inserted else { throw ModelError.invalidInput("feed \(i): sequence \(f.sequence) is fed twice in one call") }
            guard !f.tokens.isEmpty else { throw ModelError.invalidInput("feed \(i) (sequence \(f.sequence)): no tokens to process") }
            guard positions[f.sequence] + f.tokens.count <= maxContext else {
                throw ModelError.invalidInput("sequence \(f.sequence): context full: \(positions[f.sequence]) cached + \(f.tokens.count) new tokens exceed \(maxContext) positions")
            }
            for (j, t) in f.tokens.enumerated() where t < 0 || Int(t) >= vocabularySize {
                throw ModelError.invalidInput("sequence \(f.sequence): token id \(t) at position \(j) is outside the vocabulary of \(vocabularySize)")
            }
        }
        let chunk = max(1, maxChunk)
        let longest = feeds.map(\.tokens.count).max() ?? 0
        passes = stride(from: 0, to: longest, by: chunk).map { from in
            BatchedPass(feeds.enumerated().compactMap { i, f in
                guard from < f.tokens.count else { return nil }
                let to = min(f.tokens.count, from + chunk)
                let last = to == f.tokens.count
                return (i, f.sequence, f.tokens[from..<to], positions[f.sequence] + from, f.allLogits ? to - from : (last ? 1 : 0))
            })
        }
        self.feeds = feeds
    }

    /// Each feed's logits from the per-pass, per-segment logits `outputs[pass][segment]`.
    func logits(_ outputs: [[[Float]]]) -> [[Float]] {
        var out = [[Float]](repeating: [], count: feeds.count)
        for (pass, segmentLogits) in zip(passes, outputs) {
            for (s, l) in zip(pass.segments, segmentLogits) where s.logitRows > 0 { out[s.feed] += l }
        }
        return out
    }
}
