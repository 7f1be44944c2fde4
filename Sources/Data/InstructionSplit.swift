/// A deterministic train/dev split of instruction examples.
///
/// An example is held out when a seeded hash of its content (`InstructionExample.contentHash`),
/// read as a number in [0, 1), is below the fraction. The decision depends only on the row's
/// fields and the seed — not on its position, its file or the other rows — so the same rows are
/// held out on every run, reordering or appending rows moves nothing, and duplicate rows always
/// land on the same side (no train/dev leakage through duplicates). Each file gets about
/// `fraction` of its rows held out (exactly in expectation, not per file).
public enum InstructionSplit {
    /// Whether `example` belongs to the dev split.
    public static func isHeldOut(_ example: InstructionExample, fraction: Double, seed: UInt64) -> Bool {
        guard fraction > 0 else { return false }
        let u = Double(example.contentHash(seed: seed) >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return u < fraction
    }

    /// Splits `examples` (keeping their order on each side).
    /// - Throws: when `fraction` is not in [0, 1).
    public static func split(_ examples: [InstructionExample], fraction: Double, seed: UInt64)
        throws -> (train: [InstructionExample], dev: [InstructionExample]) {
        guard fraction >= 0, fraction < 1 else {
            throw InstructionDataError.invalidArgument("the dev fraction must be in [0, 1), got \(fraction)")
        }
        var train: [InstructionExample] = [], dev: [InstructionExample] = []
        for e in examples {
            if isHeldOut(e, fraction: fraction, seed: seed) { dev.append(e) } else { train.append(e) }
        }
        return (train, dev)
    }
}
