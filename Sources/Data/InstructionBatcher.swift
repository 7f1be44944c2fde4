import Foundation
import Tensor

/// Length-bucketed, seeded batching of an `InstructionMix`, resumable exactly.
///
/// Each epoch: the epoch pool (every row `repeats` times) is shuffled; the shuffled pool is cut into
/// windows of `windowBatches x batchSize` examples; each window is sorted by length and cut into
/// consecutive batches of `batchSize`, so a batch holds examples of similar length; then the order
/// of all the epoch's batches is shuffled. Every pool entry appears exactly once per epoch (the last
/// batch may be partial and is filled with padding rows).
///
/// A batch's padded length is its longest input rounded up to a multiple of `lengthMultiple`,
/// capped at `maxSequenceLength`, which bounds the number of distinct shapes the model sees (it
/// reallocates activations when the shape changes). With `windowBatches = 1` nothing is bucketed
/// (a batch is any `batchSize` consecutive shuffled examples).
///
/// The state (`State`: epoch, position, the generator at the start of the epoch) is Codable;
/// `saveState()`/`restoreState(_:)` round-trip it through `Data`, and a restored batcher yields
/// exactly the batches the original would have.
public final class InstructionBatcher {
    /// Everything needed to resume exactly.
    public struct State: Codable, Equatable, Sendable {
        /// Current epoch (0-based).
        public var epoch: Int
        /// Batches of the current epoch already handed out.
        public var batchInEpoch: Int
        /// Batches handed out since the start.
        public var batchesDrawn: Int
        /// The generator as it was before the current epoch was planned.
        public var epochRNG: RandomGenerator
        public var batchSize: Int
        public var lengthMultiple: Int
        public var windowBatches: Int
        public var maxSequenceLength: Int
        /// `InstructionMix.fingerprint` of the data, to refuse resuming on other data.
        public var dataFingerprint: UInt64
    }

    public let mix: InstructionMix
    public let batchSize: Int
    public let maxSequenceLength: Int
    public let lengthMultiple: Int
    public let windowBatches: Int
    public let padID: Int32
    public private(set) var state: State
    /// The current epoch's batches as row indices.
    private var plan: [[Int]]
    /// The generator after planning the current epoch (plans the next one).
    private var nextEpochRNG: RandomGenerator

    /// - Parameters:
    ///   - maxSequenceLength: the longest row allowed (the encoder's limit); every example must fit.
    ///   - lengthMultiple: padded lengths are rounded up to a multiple of this.
    ///   - windowBatches: batches per sorting window (1 disables bucketing).
    ///   - padID: input id written at padding positions (never scored).
    public init(mix: InstructionMix, batchSize: Int, maxSequenceLength: Int, seed: UInt64,
                lengthMultiple: Int = 8, windowBatches: Int = 50, padID: Int32 = 0) throws {
        guard batchSize > 0 else { throw InstructionDataError.invalidArgument("batch size must be positive, got \(batchSize)") }
        guard lengthMultiple > 0 else { throw InstructionDataError.invalidArgument("length multiple must be positive, got \(lengthMultiple)") }
        guard windowBatches > 0 else { throw InstructionDataError.invalidArgument("window must hold at least one batch, got \(windowBatches)") }
        guard padID >= 0 else { throw InstructionDataError.invalidArgument("pad id must be a token id, got \(padID)") }
        if let long = mix.examples.first(where: { $0.inputLength > maxSequenceLength }) {
            throw InstructionDataError.invalidArgument(
                "\(long.file):\(long.line) needs \(long.inputLength) positions but the maximum sequence length is \(maxSequenceLength)")
        }
        self.mix = mix
        self.batchSize = batchSize
        self.maxSequenceLength = maxSequenceLength
        self.lengthMultiple = lengthMultiple
        self.windowBatches = windowBatches
        self.padID = padID
        let rng = RandomGenerator(seed: seed)
        state = State(epoch: 0, batchInEpoch: 0, batchesDrawn: 0, epochRNG: rng, batchSize: batchSize,
                      lengthMultiple: lengthMultiple, windowBatches: windowBatches,
                      maxSequenceLength: maxSequenceLength, dataFingerprint: mix.fingerprint)
        (plan, nextEpochRNG) = Self.planEpoch(mix: mix, batchSize: batchSize, windowBatches: windowBatches, rng: rng)
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int { plan.count }

    /// The next batch (moving on to a freshly shuffled epoch when the current one is used up).
    public func next() -> InstructionBatch {
        if state.batchInEpoch == plan.count {
            state.epoch += 1
            state.batchInEpoch = 0
            state.epochRNG = nextEpochRNG
            (plan, nextEpochRNG) = Self.planEpoch(mix: mix, batchSize: batchSize, windowBatches: windowBatches, rng: nextEpochRNG)
        }
        let rows = plan[state.batchInEpoch].map { mix.examples[$0] }
        state.batchInEpoch += 1
        state.batchesDrawn += 1
        return InstructionBatch(rows: rows, batch: batchSize, seq: paddedLength(of: rows), padID: padID)
    }

    /// The padded length for `rows`: the longest input rounded up to `lengthMultiple`, at most
    /// `maxSequenceLength`.
    public func paddedLength(of rows: [TokenizedInstruction]) -> Int {
        Self.paddedLength(rows.map(\.inputLength).max() ?? 1, multiple: lengthMultiple, cap: maxSequenceLength)
    }

    /// The state as JSON.
    public func saveState() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(state)
    }

    /// Restores a state saved by `saveState()` of a batcher over the same data and settings.
    public func restoreState(_ data: Data) throws {
        let saved: State
        do {
            saved = try JSONDecoder().decode(State.self, from: data)
        } catch {
            throw InstructionDataError.stateMismatch("the saved state is not a valid instruction batcher state: \(error)")
        }
        try restore(saved)
    }

    /// Restores `saved`; the data and settings must match.
    public func restore(_ saved: State) throws {
        let mine = (state.batchSize, state.lengthMultiple, state.windowBatches, state.maxSequenceLength)
        let theirs = (saved.batchSize, saved.lengthMultiple, saved.windowBatches, saved.maxSequenceLength)
        guard mine == theirs else {
            throw InstructionDataError.stateMismatch(
                "saved for batch \(saved.batchSize), length multiple \(saved.lengthMultiple), window \(saved.windowBatches), max length \(saved.maxSequenceLength); this batcher has \(batchSize), \(lengthMultiple), \(windowBatches), \(maxSequenceLength)")
        }
        guard saved.dataFingerprint == mix.fingerprint else {
            throw InstructionDataError.stateMismatch("the saved state belongs to different data (fingerprint \(saved.dataFingerprint), this data has \(mix.fingerprint))")
        }
        guard saved.epoch >= 0, saved.batchesDrawn >= 0 else {
            throw InstructionDataError.stateMismatch("negative epoch or batch count")
        }
        let (p, n) = Self.planEpoch(mix: mix, batchSize: batchSize, windowBatches: windowBatches, rng: saved.epochRNG)
        guard saved.batchInEpoch >= 0, saved.batchInEpoch <= p.count else {
            throw InstructionDataError.stateMismatch("position \(saved.batchInEpoch) is outside the epoch's \(p.count) batches")
        }
        plan = p
        nextEpochRNG = n
        state = saved
    }

    /// Deterministic batches over `examples` for validation: sorted by length (ties in input
    /// order), cut into batches of `batchSize`, the last one filled with padding rows. The same on
    /// every call and unaffected by any batcher's state.
    public static func fixedBatches(_ examples: [TokenizedInstruction], batchSize: Int, maxSequenceLength: Int,
                                    lengthMultiple: Int = 8, padID: Int32 = 0) throws -> [InstructionBatch] {
        guard batchSize > 0, lengthMultiple > 0 else {
            throw InstructionDataError.invalidArgument("batch size and length multiple must be positive")
        }
        if let long = examples.first(where: { $0.inputLength > maxSequenceLength }) {
            throw InstructionDataError.invalidArgument(
                "\(long.file):\(long.line) needs \(long.inputLength) positions but the maximum sequence length is \(maxSequenceLength)")
        }
        let order = examples.indices.sorted { (examples[$0].inputLength, $0) < (examples[$1].inputLength, $1) }
        return stride(from: 0, to: order.count, by: batchSize).map { start in
            let rows = order[start..<min(start + batchSize, order.count)].map { examples[$0] }
            let seq = paddedLength(rows.map(\.inputLength).max() ?? 1, multiple: lengthMultiple, cap: maxSequenceLength)
            return InstructionBatch(rows: rows, batch: batchSize, seq: seq, padID: padID)
        }
    }

    static func paddedLength(_ longest: Int, multiple: Int, cap: Int) -> Int {
        min(cap, (longest + multiple - 1) / multiple * multiple)
    }

    /// Plans one epoch from `rng`: returns its batches (row indices) and the generator afterwards.
    static func planEpoch(mix: InstructionMix, batchSize: Int, windowBatches: Int,
                          rng start: RandomGenerator) -> ([[Int]], RandomGenerator) {
        var rng = start
        var pool = mix.epochPool
        shuffle(&pool, &rng)
        var batches: [[Int]] = []
        batches.reserveCapacity((pool.count + batchSize - 1) / batchSize)
        let window = windowBatches * batchSize
        let lengths = mix.examples.map(\.inputLength)
        for w in stride(from: 0, to: pool.count, by: window) {
            let positions = w..<min(w + window, pool.count)
            // Sort by length, ties by pool position, so the order never depends on the sort algorithm.
            let sorted = positions.sorted { (lengths[pool[$0]], $0) < (lengths[pool[$1]], $1) }.map { pool[$0] }
            for b in stride(from: 0, to: sorted.count, by: batchSize) {
                batches.append(Array(sorted[b..<min(b + batchSize, sorted.count)]))
            }
        }
        shuffle(&batches, &rng)
        return (batches, rng)
    }

    /// Fisher-Yates with the project's generator (Swift's `shuffle(using:)` does not promise a
    /// stable algorithm across versions).
    static func shuffle<T>(_ a: inout [T], _ rng: inout RandomGenerator) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, rng.nextInt(below: i + 1))
        }
    }
}
