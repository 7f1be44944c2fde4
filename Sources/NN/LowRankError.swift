/// Errors raised by low-rank layers: rank specifications, layer plans and the truncated SVD.
///
/// Every case names what it is about (the layer or the text that was parsed) and the offending value,
/// so a message printed by the CLI says which option to fix.
public enum LowRankError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A rank specification string could not be parsed (`text` as given, `context` says for what).
    case invalidSpec(text: String, context: String, reason: String)
    /// A plan string ("qkv=0.25,mlp_down=dense") could not be parsed.
    case invalidPlan(text: String, reason: String)
    /// An absolute rank outside 1...min(in, out) for `layer` (a [out, in] matrix).
    case rankOutOfRange(layer: String, rank: Int, inFeatures: Int, outFeatures: Int)
    /// A rank fraction outside (0, 1].
    case fractionOutOfRange(layer: String, value: Double)
    /// A spectral energy threshold outside (0, 1].
    case energyOutOfRange(layer: String, value: Double)
    /// An energy spec was resolved without the singular values of a pretrained matrix.
    case singularValuesRequired(layer: String)
    /// The singular values given do not belong to a matrix of this layer's shape.
    case singularValueCount(layer: String, expected: Int, found: Int)
    /// A matrix handed to the SVD is empty, too large for LAPACK's 32-bit indices, or not finite.
    case invalidMatrix(rows: Int, columns: Int, reason: String)
    /// LAPACK `sgesdd_` returned `info != 0` (negative: bad argument number; positive: no convergence).
    case lapackFailure(routine: String, info: Int, rows: Int, columns: Int)

    public var description: String {
        switch self {
        case let .invalidSpec(text, context, reason):
            return "invalid rank spec '\(text)' for \(context): \(reason) (expected dense, an integer rank like 64, "
                + "a fraction in (0, 1] like 0.25, or an energy threshold like e0.9 / energy:0.9)"
        case let .invalidPlan(text, reason):
            return "invalid low-rank plan '\(text)': \(reason)"
        case let .rankOutOfRange(layer, rank, inFeatures, outFeatures):
            return "rank \(rank) for \(layer) is out of range: a [\(outFeatures), \(inFeatures)] matrix allows ranks 1...\(min(inFeatures, outFeatures))"
        case let .fractionOutOfRange(layer, value):
            return "rank fraction \(value) for \(layer) is out of range: it must lie in (0, 1]"
        case let .energyOutOfRange(layer, value):
            return "energy threshold \(value) for \(layer) is out of range: it must lie in (0, 1]"
        case let .singularValuesRequired(layer):
            return "the energy rank spec for \(layer) needs the singular values of a pretrained matrix; "
                + "use an absolute rank or a fraction when training from scratch"
        case let .singularValueCount(layer, expected, found):
            return "\(found) singular values given for \(layer), whose matrix has \(expected)"
        case let .invalidMatrix(rows, columns, reason):
            return "cannot decompose a [\(rows), \(columns)] matrix: \(reason)"
        case let .lapackFailure(routine, info, rows, columns):
            let why = info < 0 ? "argument \(-info) had an illegal value" : "the divide-and-conquer iteration did not converge (info \(info))"
            return "LAPACK \(routine) failed on a [\(rows), \(columns)] matrix: \(why)"
        }
    }
}
