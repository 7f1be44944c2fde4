import Foundation

/// How the rank of one low-rank layer is chosen.
///
/// A weight W [out, in] has full rank k = min(in, out). `resolve` turns a spec into a concrete rank in
/// 1...k, or nil for "keep the dense matrix".
///
/// String grammar (case-insensitive, surrounding spaces ignored), used by the CLI and by `LowRankPlan`:
///
///     spec     := "dense" | rank | fraction | energy
///     rank     := digits                          e.g. "64"     an absolute rank, >= 1
///     fraction := digits "." digits? | "." digits e.g. "0.25"   r = round(f * min(in, out)), at least 1; 0 < f <= 1
///     energy   := ("e" | "energy:") decimal       e.g. "e0.9", "energy:0.9"
///                                                 the smallest r keeping that share of the spectral energy; 0 < e <= 1
///     decimal  := digits | fraction
///
/// An integer is always a rank and a number with a decimal point always a fraction, so "1" is rank 1 and
/// "1.0" is full rank. `description` prints the same grammar, so specs round-trip through strings (and
/// through `Codable`, which stores that string).
public enum RankSpec: Equatable, Hashable, Sendable, CustomStringConvertible, Codable {
    /// Keep the dense matrix.
    case dense
    /// Exactly this rank.
    case absolute(Int)
    /// This fraction of the full rank min(in, out), rounded to the nearest integer and at least 1.
    case fraction(Double)
    /// The smallest rank r whose leading singular values keep this share of the squared Frobenius norm:
    /// sum_{i<r} s_i^2 / sum_i s_i^2 >= e. Only meaningful for the SVD of a pretrained matrix.
    case energy(Double)

    /// Parses the grammar above. Rejects malformed text, rank 0, and fractions or energies outside (0, 1];
    /// `context` (a layer or layer kind) appears in the error. Ranks above a layer's full rank are only
    /// known, and rejected, in `resolve`.
    public init(parsing text: String, context: String = "all layers") throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        func fail(_ reason: String) -> LowRankError { .invalidSpec(text: text, context: context, reason: reason) }
        if t == "dense" {
            self = .dense
            return
        }
        if t.hasPrefix("energy:") || t.hasPrefix("e") {
            let number = t.hasPrefix("energy:") ? String(t.dropFirst("energy:".count)) : String(t.dropFirst())
            guard let e = RankSpec.decimal(number) else { throw fail("'\(number)' after the energy prefix is not a decimal number") }
            self = .energy(e)
            try validate(layer: context)
            return
        }
        if !t.isEmpty, t.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let r = Int(t) else { throw fail("the rank is too large") }
            guard r >= 1 else { throw fail("rank \(r) is invalid; a rank must be at least 1") }
            self = .absolute(r)
            return
        }
        if t.contains("."), let f = RankSpec.decimal(t) {
            self = .fraction(f)
            try validate(layer: context)
            return
        }
        throw fail(t.isEmpty ? "it is empty" : "it is not dense, an integer, a decimal fraction or an energy threshold")
    }

    /// Unsigned decimal without exponent ("0.9", ".9", "1", "1."), nil for anything else.
    private static func decimal(_ s: String) -> Double? {
        let digits = s.filter { $0 != "." }
        guard !digits.isEmpty, s.filter({ $0 == "." }).count <= 1,
              digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Double(s.hasPrefix(".") ? "0" + s : s)
    }

    /// Checks the spec's own value (rank >= 1, fraction and energy in (0, 1]) without a layer shape.
    public func validate(layer: String) throws {
        switch self {
        case .dense:
            return
        case .absolute(let r):
            guard r >= 1 else { throw LowRankError.invalidSpec(text: description, context: layer, reason: "rank \(r) is invalid; a rank must be at least 1") }
        case .fraction(let f):
            guard f > 0, f <= 1 else { throw LowRankError.fractionOutOfRange(layer: layer, value: f) }
        case .energy(let e):
            guard e > 0, e <= 1 else { throw LowRankError.energyOutOfRange(layer: layer, value: e) }
        }
    }

    /// The rank for a layer with weight [out, in], or nil to keep it dense.
    ///
    /// - Parameters:
    ///   - singularValues: the matrix's singular values in descending order (min(in, out) of them, e.g.
    ///     from `TruncatedSVD.decompose`); required for `.energy`, ignored otherwise.
    ///   - layer: the layer's name, used in errors.
    /// - Throws: `LowRankError` for rank 0 or above min(in, out), a fraction or energy outside (0, 1], an
    ///   energy spec without singular values, or singular values of the wrong count.
    public func resolve(in inFeatures: Int, out outFeatures: Int, singularValues: [Float]? = nil, layer: String) throws -> Int? {
        let full = min(inFeatures, outFeatures)
        switch self {
        case .dense:
            return nil
        case .absolute(let r):
            guard r >= 1, r <= full else { throw LowRankError.rankOutOfRange(layer: layer, rank: r, inFeatures: inFeatures, outFeatures: outFeatures) }
            return r
        case .fraction(let f):
            try validate(layer: layer)
            guard full >= 1 else { throw LowRankError.rankOutOfRange(layer: layer, rank: 1, inFeatures: inFeatures, outFeatures: outFeatures) }
            return min(full, max(1, Int((f * Double(full)).rounded())))
        case .energy(let e):
            try validate(layer: layer)
            guard let s = singularValues else { throw LowRankError.singularValuesRequired(layer: layer) }
            guard s.count == full, full >= 1 else { throw LowRankError.singularValueCount(layer: layer, expected: full, found: s.count) }
            return RankSpec.energyRank(singularValues: s, threshold: e)
        }
    }

    /// The smallest r in 1...s.count with sum_{i<r} s_i^2 >= threshold * sum_i s_i^2 (double accumulation;
    /// s in descending order). A zero matrix gives 1.
    public static func energyRank(singularValues s: [Float], threshold e: Double) -> Int {
        precondition(!s.isEmpty, "energyRank needs at least one singular value")
        var total = 0.0
        for v in s { total += Double(v) * Double(v) }
        let target = e * total
        var kept = 0.0
        for (i, v) in s.enumerated() {
            kept += Double(v) * Double(v)
            if kept >= target { return i + 1 }
        }
        return s.count
    }

    public var description: String {
        switch self {
        case .dense: return "dense"
        case .absolute(let r): return String(r)
        case .fraction(let f): return RankSpec.format(f)
        case .energy(let e): return "e" + RankSpec.format(e)
        }
    }

    /// A decimal rendering that `init(parsing:)` reads back as the same Double (always with a point).
    private static func format(_ v: Double) -> String {
        let s = "\(v)"
        if s.contains("."), !s.contains("e") { return s }
        // Exponent notation (tiny or huge values): a plain decimal with enough digits to round-trip.
        var plain = String(format: "%.40f", v)
        while plain.hasSuffix("0"), !plain.hasSuffix(".0") { plain.removeLast() }
        return plain
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text, context: "a decoded rank spec")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
