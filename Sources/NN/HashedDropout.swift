import Tensor

/// Inverted dropout whose mask is a pure function of (seed, element index): element i is kept when
/// a 64-bit hash of both is at or above `rate` x 2^64, and kept elements are scaled by 1 / (1 - rate).
/// Backward and recomputation regenerate the same mask from the seed instead of storing it, so
/// activation recomputation and resumed runs see exactly the masks of the original pass.
public enum HashedDropout {
    @inline(__always)
    static func hash(_ seed: UInt64, _ i: Int) -> UInt64 {
        // splitmix64 finaliser of seed + i * golden ratio
        var z = seed &+ UInt64(truncatingIfNeeded: i) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    static func threshold(_ rate: Float) -> UInt64 {
        rate <= 0 ? 0 : (rate >= 1 ? .max : UInt64(Double(rate) * 18_446_744_073_709_551_616.0))
    }

    /// True when element `i` survives.
    public static func keeps(_ i: Int, rate: Float, seed: UInt64) -> Bool { hash(seed, i) >= threshold(rate) }

    /// out[i] = inp[i] / (1 - rate) where kept, 0 elsewhere.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int, rate: Float, seed: UInt64) {
        let t = threshold(rate), scale = 1 / (1 - rate)
        Parallel.forEachChunk(count, minPerThread: 1 << 16) { r in
            for i in r { out[i] = hash(seed, i) >= t ? inp[i] * scale : 0 }
        }
    }

    /// dinp[i] += dout[i] / (1 - rate) where kept.
    public static func backwardAccumulate(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, count: Int, rate: Float, seed: UInt64) {
        let t = threshold(rate), scale = 1 / (1 - rate)
        Parallel.forEachChunk(count, minPerThread: 1 << 16) { r in
            for i in r where hash(seed, i) >= t { dinp[i] += dout[i] * scale }
        }
    }
}
