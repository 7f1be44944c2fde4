/// Deterministic per-rank buffer contents whose sums and means are exact in Float, so results can be
/// compared with their closed forms.
enum TestPattern {
    /// Element `i` of rank `rank`: (i mod 251 + 1) * (rank + 1), an integer below 2^24.
    static func value(rank: Int, index: Int) -> Float {
        Float(index % 251 + 1) * Float(rank + 1)
    }

    /// The sum over ranks 0..<size of `value(rank:index:)`.
    static func sum(size: Int, index: Int) -> Float {
        Float(index % 251 + 1) * Float(size * (size + 1) / 2)
    }

    /// Whether `value` is the mean over `size` ranks at `index`: exact when 1/size is a power of two,
    /// else within one part in 10^6 (the mean is computed as the sum times 1/size).
    static func isMean(_ value: Float, size: Int, index: Int) -> Bool {
        let expected = Double(sum(size: size, index: index)) / Double(size)
        if size & (size - 1) == 0 { return Double(value) == expected }
        return abs(Double(value) - expected) <= 1e-6 * abs(expected)
    }

    /// Non-integer per-rank contents (rounding happens in the reduction), for comparing two ways of
    /// reducing the same data.
    static func irregular(rank: Int, index: Int) -> Float {
        let x = Double(index) * 0.618_033_988_7 + Double(rank) * 1.732_050_8
        return Float((x - x.rounded(.down)) * 2 - 1) * Float(1 + index % 7) / 3
    }

    /// Byte `i` of the broadcast blob test.
    static func byte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index &* 31 &+ 7) }

    /// FNV-1a hash of bytes, printed for the test to compare.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}
