import Models

/// `HistoryHashModel`'s batched form: each sequence keeps its own history.
final class BatchedHistoryHashModel: BatchedLanguageModel {
    let model: HistoryHashModel
    private var histories: [[Int32]]

    init(model: HistoryHashModel, sequences: Int) {
        self.model = model
        histories = Array(repeating: [], count: sequences)
    }

    var vocabularySize: Int { model.vocabularySize }
    var maxContext: Int { model.maxContext }
    var sequenceCount: Int { histories.count }
    func position(of sequence: Int) -> Int { histories[sequence].count }

    func forward(_ feeds: [SequenceFeed]) throws -> [[Float]] {
        guard Set(feeds.map(\.sequence)).count == feeds.count else { throw ModelError.invalidInput("a sequence fed twice") }
        return try feeds.map { f in
            guard !f.tokens.isEmpty, histories[f.sequence].count + f.tokens.count <= maxContext else { throw ModelError.invalidInput("bad feed") }
            var out: [Float] = []
            for (i, t) in f.tokens.enumerated() {
                histories[f.sequence].append(t)
                if f.allLogits || i == f.tokens.count - 1 { out += model.logits(after: histories[f.sequence]) }
            }
            return out
        }
    }

    func truncate(sequence: Int, to count: Int) throws { histories[sequence] = Array(histories[sequence].prefix(max(0, count))) }

    func copyCache(from source: Int, to destination: Int, count: Int) throws {
        guard count <= histories[source].count else { throw ModelError.invalidInput("copy past the cached positions") }
        histories[destination] = Array(histories[source].prefix(count))
    }
}
