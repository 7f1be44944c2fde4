import Tensor

/// Several sequences through one `LlamaRunner`'s weights per forward pass, each with its own
/// key/value cache. A pass stacks the new tokens of all fed sequences into one matrix of rows: the
/// linear layers run once over all rows (so generating one token for each of B sequences reads the
/// weights once instead of B times), RoPE uses each row's own position, and each sequence's rows
/// attend to that sequence's cache only.
///
/// Each row gets the arithmetic the single-sequence runner would give it when fed the same tokens
/// (`SegmentedLinearProduct`), so a sequence's logits agree with `LlamaRunner.forward` to float
/// rounding, and one-token steps on quantized weights agree bit for bit with its decode path. With
/// the runner's `batchInvariant` set, all of a sequence's logits are bit for bit the single
/// runner's (quantized weights), whatever else is in the pass.
public final class LlamaBatchRunner: BatchedLanguageModel, @unchecked Sendable {
    public let runner: LlamaRunner
    let cache: SequenceKVCache
    let products = SegmentedLinearProduct()

    /// `sequences` empty sequences over `runner`'s weights (its own cache is not used).
    public init(runner: LlamaRunner, sequences: Int) throws {
        guard sequences >= 1 else { throw ModelError.invalidInput("a batch needs at least one sequence, got \(sequences)") }
        self.runner = runner
        cache = SequenceKVCache(sequences: sequences, layers: runner.config.layers, width: runner.config.kvDim, maxPositions: runner.maxContext)
    }

    public var vocabularySize: Int { runner.config.vocabSize }
    public var maxContext: Int { runner.maxContext }
    public var sequenceCount: Int { cache.sequences }

    public func position(of sequence: Int) -> Int { cache.positions[sequence] }

    public func truncate(sequence: Int, to count: Int) throws { try cache.checkedTruncate(sequence, to: count) }

    public func copyCache(from source: Int, to destination: Int, count: Int) throws {
        try cache.checkedCopy(from: source, to: destination, count: count)
    }

    public func forward(_ feeds: [SequenceFeed]) throws -> [[Float]] {
        let schedule = try BatchedForwardSchedule(feeds, positions: cache.positions, maxContext: maxContext,
                                                  vocabularySize: vocabularySize, maxChunk: runner.maxChunk)
        return schedule.logits(schedule.passes.map(run))
    }

    /// One pass through the runner's layers; the logits of each segment (empty when it wants none).
    func run(_ pass: BatchedPass) -> [[Float]] {
        for s in pass.segments { cache.reserve(s.sequence, positions: s.start + s.count) }
        let logits = runner.run(pass, products: products) { sequence, layer in
            (cache.keys(sequence, layer: layer), cache.values(sequence, layer: layer))
        }
        for s in pass.segments { cache.advance(s.sequence, by: s.count) }
        return logits
    }
}
