/// Vectorised transcendental functions on `SIMD16<Float>` and their scalar counterparts.
///
/// `exp` uses range reduction x = n ln2 + r with |r| <= ln2/2 and a degree-6 polynomial for e^r
/// (relative error about 2e-7 across the float range), then scales by 2^n through the exponent bits.
public enum VectorMath {
    public typealias V = SIMD16<Float>

    @inline(__always)
    public static func exp(_ x: V) -> V {
        // Clamp with lane selects and round with the 1.5 * 2^23 "magic number" trick: the generic SIMD
        // `rounded` and integer conversions compile to per-lane loops (about 30x slower).
        let lowered = x.replacing(with: V(repeating: -87.3), where: x .< -87.3)
        let c = lowered.replacing(with: V(repeating: 88.3), where: lowered .> 88.3)
        let magic = V(repeating: 12_582_912.0)
        let t = c * 1.442_695_04 + magic
        let nf = t - magic
        // r = x - n*ln2 in two parts for accuracy.
        var r = c - nf * 0.693_145_751_953_125
        r = r - nf * 1.428_606_765_330_187_045e-06
        var p = V(repeating: 1.0 / 720.0)
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        let n = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((n &+ 127) &<< 23, to: V.self)
        return p * scale
    }

    /// tanh(x) = 1 - 2 / (e^{2x} + 1), accurate to a few ulp away from 0 and exact in sign.
    @inline(__always)
    public static func tanh(_ x: V) -> V {
        let e = exp(2 * x)
        return 1 - 2 / (e + 1)
    }

    /// Applies `f` to `count` floats in place in blocks of 16, with a scalar tail through the same `f`.
    @inline(__always)
    public static func apply(_ p: UnsafeMutablePointer<Float>, count: Int, _ f: (V) -> V) {
        var i = 0
        while i + 16 <= count {
            let raw = UnsafeMutableRawPointer(p + i)
            raw.storeBytes(of: f(raw.loadUnaligned(as: V.self)), as: V.self)
            i += 16
        }
        if i < count {
            var tail = V(repeating: 0)
            for j in 0..<(count - i) { tail[j] = p[i + j] }
            let out = f(tail)
            for j in 0..<(count - i) { p[i + j] = out[j] }
        }
    }
}

extension UnsafeRawPointer {
    @inline(__always) func loadSIMD16() -> SIMD16<Float> { loadUnaligned(as: SIMD16<Float>.self) }
}
