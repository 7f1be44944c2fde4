import CVectorKernels
import Tensor

/// Inverted dropout whose mask is a pure function of (seed, element index): element i is kept when
/// a 32-bit hash of both is at or above `rate` x 2^32, and kept elements are scaled by 1 / (1 - rate).
/// Backward and recomputation regenerate the same mask from the seed instead of storing it, so
/// activation recomputation and resumed runs see exactly the masks of the original pass.
///
/// The hash is two rounds of a bijective 32-bit mixer keyed by two words drawn from the seed
/// (`fv_dropout_hash`); its AVX2 loop handles eight elements per instruction sequence, where a
/// 64-bit hash per element cost more than the rank-r product the mask feeds (LoRA masks every
/// adapted layer's input up to four times per step with recomputation). Indices are taken modulo 2^32.
public enum HashedDropout {
    /// The two 32-bit keys of `seed` (splitmix64 of the seed, split in halves).
    static func keys(_ seed: UInt64) -> (UInt32, UInt32) {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (UInt32(truncatingIfNeeded: z), UInt32(truncatingIfNeeded: z >> 32))
    }

    /// Hashes at or above this survive; nil when nothing survives (rate >= 1).
    static func threshold(_ rate: Float) -> UInt32? {
        if rate >= 1 { return nil }
        return rate <= 0 ? 0 : UInt32(Double(rate) * 4_294_967_296.0)
    }

    /// True when element `i` survives.
    public static func keeps(_ i: Int, rate: Float, seed: UInt64) -> Bool {
        guard let t = threshold(rate) else { return false }
        let k = keys(seed)
        return fv_dropout_hash(UInt32(truncatingIfNeeded: i), k.0, k.1) >= t
    }

    /// out[i] = inp[i] / (1 - rate) where kept, 0 elsewhere.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int, rate: Float, seed: UInt64) {
        guard let t = threshold(rate) else { out.update(repeating: 0, count: count); return }
        let k = keys(seed), scale = 1 / (1 - rate)
        Parallel.forEachChunk(count, minPerThread: 1 << 15) { r in
            fv_dropout_forward(out + r.lowerBound, inp + r.lowerBound, Int64(r.count), Int64(r.lowerBound), k.0, k.1, t, scale)
        }
    }

    /// dinp[i] += dout[i] / (1 - rate) where kept.
    public static func backwardAccumulate(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, count: Int, rate: Float, seed: UInt64) {
        guard let t = threshold(rate) else { return }
        let k = keys(seed), scale = 1 / (1 - rate)
        Parallel.forEachChunk(count, minPerThread: 1 << 15) { r in
            fv_dropout_backward_accumulate(dinp + r.lowerBound, dout + r.lowerBound, Int64(r.count), Int64(r.lowerBound), k.0, k.1, t, scale)
        }
    }
}
