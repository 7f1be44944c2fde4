/// Walks shards in order, llm.c style: each batch takes the next `batchSize * sequenceLength + 1`
/// tokens; row `b` is tokens `[b·T, b·T + T]` of that span, and the cursor then advances by
/// `batchSize * sequenceLength` (so the last token of one batch is the first input of the next).
/// A batch never spans two shards; a shard's tail too short for a full batch is skipped.
///
/// Deterministic and resettable; its position is Codable for checkpoints.
public struct SequentialTokenLoader {
    /// Where the walk stands.
    public struct Position: Codable, Equatable, Sendable {
        public var shard: Int
        public var offset: Int
    }

    public let shards: [TokenShard]
    public let batchSize: Int
    public let sequenceLength: Int
    public var position = Position(shard: 0, offset: 0)

    /// - Throws: `shardTooShort` when no shard can supply even one batch.
    public init(shards: [TokenShard], batchSize: Int, sequenceLength: Int) throws {
        guard batchSize > 0, sequenceLength > 0 else {
            throw DataError.invalidArgument("batch size and sequence length must be positive, got \(batchSize) x \(sequenceLength)")
        }
        guard !shards.isEmpty else { throw DataError.invalidArgument("no shards given to the loader") }
        let needed = batchSize * sequenceLength + 1
        guard shards.contains(where: { $0.count >= needed }) else {
            let largest = shards.max { $0.count < $1.count }!
            throw DataError.shardTooShort(file: largest.path, tokens: largest.count, needed: needed)
        }
        self.shards = shards
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
    }

    /// Number of batches one full walk yields.
    public var batchesPerPass: Int {
        let step = batchSize * sequenceLength
        return shards.reduce(0) { $0 + ($1.count >= step + 1 ? ($1.count - 1) / step : 0) }
    }

    /// Goes back to the first batch.
    public mutating func reset() { position = Position(shard: 0, offset: 0) }

    /// The next batch, or nil at the end of the last shard.
    public mutating func next() -> TokenBatch? {
        let t = sequenceLength, w = t + 1, span = batchSize * t + 1
        while position.shard < shards.count {
            let shard = shards[position.shard]
            if position.offset + span <= shard.count {
                var tokens = [Int32](repeating: 0, count: batchSize * w)
                tokens.withUnsafeMutableBufferPointer { buf in
                    for b in 0..<batchSize {
                        shard.copyTokens(from: position.offset + b * t, count: w, into: buf.baseAddress! + b * w)
                    }
                }
                position.offset += batchSize * t
                return TokenBatch(batchSize: batchSize, sequenceLength: t, windows: tokens)
            }
            position = Position(shard: position.shard + 1, offset: 0)
        }
        return nil
    }
}
