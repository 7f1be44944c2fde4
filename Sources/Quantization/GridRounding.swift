/// How a value lying between two codes of a block's grid is rounded onto one of them (see
/// `BlockGridRequantizer`).
public enum GridRounding: Equatable, Sendable {
    /// To the nearer code: a value that moved by less than half a step from its base code returns to it.
    case nearest
    /// Up with probability equal to the value's fractional position between the two codes, so the
    /// rounded value equals the unrounded one in expectation. The draw is a hash of (`stream`, the
    /// element's index, `seed`): the same inputs give the same bytes on every run and machine.
    case stochastic(seed: UInt64)

    /// A stream number for a tensor name (64-bit FNV-1a of its UTF-8 bytes), so that different
    /// tensors draw independent numbers.
    public static func stream(named name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// A uniform number in [0, 1) determined by (`seed`, `stream`, `index`) (splitmix64 finalizer
    /// applied in a chain; 53 random bits).
    public static func uniform(seed: UInt64, stream: UInt64, index: UInt64) -> Double {
        @inline(__always) func mix(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9e37_79b9_7f4a_7c15
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        let h = mix(mix(mix(seed) ^ stream) ^ index)
        return Double(h >> 11) * 0x1p-53
    }
}
