/// Tokenized examples from several files, each file's rows repeated by its weight in every epoch.
///
/// The rows are stored once; `repeats[i]` says how many times row `i` occurs in an epoch, so an
/// epoch holds `epochSize = sum(repeats)` examples (FinGPT's mix of FPB x6, FiQA x21, TFNS x2).
public struct InstructionMix: Sendable {
    /// Distinct rows, file by file in the order given.
    public let examples: [TokenizedInstruction]
    /// Occurrences of each row per epoch (its file's weight).
    public let repeats: [Int]
    /// A stable hash of the rows and repeats, used to refuse restoring a batcher on other data.
    public let fingerprint: UInt64

    /// Mixes `files`, each a list of rows with a positive repeat count.
    public init(files: [(examples: [TokenizedInstruction], weight: Int)]) throws {
        var examples: [TokenizedInstruction] = [], repeats: [Int] = []
        for (i, f) in files.enumerated() {
            guard f.weight >= 1 else {
                throw InstructionDataError.invalidArgument("file \(i) has weight \(f.weight); weights are repeat counts >= 1")
            }
            examples += f.examples
            repeats += Array(repeating: f.weight, count: f.examples.count)
        }
        guard !examples.isEmpty else { throw InstructionDataError.invalidArgument("the mix holds no examples") }
        self.examples = examples
        self.repeats = repeats
        self.fingerprint = Self.hash(examples, repeats)
    }

    /// Every row once (weight 1).
    public init(examples: [TokenizedInstruction]) throws {
        try self.init(files: [(examples, 1)])
    }

    /// Examples per epoch, counting repeats.
    public var epochSize: Int { repeats.reduce(0, +) }

    /// One epoch's examples as row indices, each row `repeats[row]` times, in row order.
    public var epochPool: [Int] {
        var pool: [Int] = []
        pool.reserveCapacity(epochSize)
        for (i, r) in repeats.enumerated() { pool += repeatElement(i, count: r) }
        return pool
    }

    private static func hash(_ examples: [TokenizedInstruction], _ repeats: [Int]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ v: UInt64) { h = (h ^ v) &* 0x0000_0100_0000_01B3 }
        for (e, r) in zip(examples, repeats) {
            mix(UInt64(r)); mix(UInt64(e.promptCount)); mix(UInt64(e.tokens.count))
            for t in e.tokens { mix(UInt64(UInt32(bitPattern: t))) }
        }
        return h
    }
}
