import Tensor

/// Draws random training windows from one or more token shards.
///
/// Each `nextBatch()` picks `batchSize` start positions uniformly over all windows of
/// `sequenceLength + 1` tokens in all shards (a window never spans two shards), using a seeded
/// `RandomGenerator`. The complete sampling state is the Codable `State`: store it in a checkpoint
/// and `restore(_:)` it to draw exactly the batches an uninterrupted run would have drawn.
///
/// `validationBatches(batch:seq:maxBatches:)` instead walks the shards in order from the start,
/// deterministically and without touching the random state.
public final class TokenWindowSampler {
    /// Everything needed to resume sampling exactly.
    public struct State: Codable, Equatable, Sendable {
        /// The generator as it is before the next draw.
        public var rng: RandomGenerator
        /// Batches drawn so far.
        public var batchesDrawn: Int
        /// Tokens drawn so far (batchesDrawn x batchSize x (sequenceLength + 1)).
        public var tokensDrawn: Int
        public var batchSize: Int
        public var sequenceLength: Int
        /// Token count of each shard, to refuse resuming on different data.
        public var shardTokenCounts: [Int]
    }

    public let shards: [TokenShard]
    public let batchSize: Int
    public let sequenceLength: Int
    public private(set) var state: State
    /// Cumulative window counts: windows of shard i are numbered windowEnds[i-1]..<windowEnds[i].
    private let windowEnds: [Int]

    /// - Parameters:
    ///   - maxSequenceLength: the caller's limit on `sequenceLength` (e.g. the model's context
    ///     length); exceeding it throws `sequenceTooLong`.
    /// - Throws: `shardTooShort` when a shard has fewer than `sequenceLength + 1` tokens.
    public init(shards: [TokenShard], batchSize: Int, sequenceLength: Int, seed: UInt64,
                maxSequenceLength: Int? = nil) throws {
        guard !shards.isEmpty else { throw DataError.invalidArgument("no shards given to the sampler") }
        guard batchSize > 0 else { throw DataError.invalidArgument("batch size must be positive, got \(batchSize)") }
        guard sequenceLength > 0 else { throw DataError.invalidArgument("sequence length must be positive, got \(sequenceLength)") }
        if let limit = maxSequenceLength, sequenceLength > limit {
            throw DataError.sequenceTooLong(requested: sequenceLength, limit: limit)
        }
        var ends: [Int] = []
        var total = 0
        for s in shards {
            guard s.count >= sequenceLength + 1 else {
                throw DataError.shardTooShort(file: s.path, tokens: s.count, needed: sequenceLength + 1)
            }
            total += s.count - sequenceLength
            ends.append(total)
        }
        self.shards = shards
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.windowEnds = ends
        self.state = State(rng: RandomGenerator(seed: seed), batchesDrawn: 0, tokensDrawn: 0,
                           batchSize: batchSize, sequenceLength: sequenceLength, shardTokenCounts: shards.map(\.count))
    }

    /// Opens the shards at `paths` and builds a sampler over them.
    public convenience init(shardPaths: [String], batchSize: Int, sequenceLength: Int, seed: UInt64,
                            maxSequenceLength: Int? = nil) throws {
        try self.init(shards: shardPaths.map { try TokenShard(path: $0) }, batchSize: batchSize,
                      sequenceLength: sequenceLength, seed: seed, maxSequenceLength: maxSequenceLength)
    }

    /// Number of distinct window start positions across all shards.
    public var windowCount: Int { windowEnds.last ?? 0 }

    /// The next random batch.
    public func nextBatch() -> TokenBatch {
        let w = sequenceLength + 1
        var tokens = [Int32](repeating: 0, count: batchSize * w)
        tokens.withUnsafeMutableBufferPointer { buf in
            for b in 0..<batchSize {
                let r = state.rng.nextInt(below: windowCount)
                let (shard, start) = locate(r)
                shards[shard].copyTokens(from: start, count: w, into: buf.baseAddress! + b * w)
            }
        }
        state.batchesDrawn += 1
        state.tokensDrawn += batchSize * w
        return TokenBatch(batchSize: batchSize, sequenceLength: sequenceLength, windows: tokens)
    }

    /// Resumes from a saved state; the batch shape and shard sizes must match.
    public func restore(_ saved: State) throws {
        guard saved.batchSize == batchSize, saved.sequenceLength == sequenceLength else {
            throw DataError.stateMismatch("saved for batch \(saved.batchSize) x sequence \(saved.sequenceLength), sampler is \(batchSize) x \(sequenceLength)")
        }
        guard saved.shardTokenCounts == shards.map(\.count) else {
            throw DataError.stateMismatch("saved for shards of \(saved.shardTokenCounts) tokens, sampler has \(shards.map(\.count))")
        }
        state = saved
    }

    /// Consecutive validation batches from the start of the shards, in order (at most
    /// `maxBatches` when given); see `SequentialTokenLoader`.
    public func validationBatches(batch: Int, seq: Int, maxBatches: Int? = nil) throws -> [TokenBatch] {
        var loader = try SequentialTokenLoader(shards: shards, batchSize: batch, sequenceLength: seq)
        var out: [TokenBatch] = []
        while maxBatches.map({ out.count < $0 }) ?? true, let b = loader.next() { out.append(b) }
        return out
    }

    /// Maps a global window number to (shard index, start offset).
    private func locate(_ r: Int) -> (Int, Int) {
        var lo = 0, hi = windowEnds.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if windowEnds[mid] > r { hi = mid } else { lo = mid + 1 }
        }
        return (lo, r - (lo == 0 ? 0 : windowEnds[lo - 1]))
    }
}
