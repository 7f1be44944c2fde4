/// A seeded, splittable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// All randomness in the toolkit flows from explicit generators so that runs and resumed runs are
/// reproducible bit for bit. `split()` derives an independent stream (for a layer, a data loader, a
/// rank) without disturbing reproducibility of the parent beyond one draw. The whole state is four
/// words and is `Codable`, so checkpoints can store it.
public struct RandomGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    public private(set) var state: [UInt64]

    public init(seed: UInt64) {
        var sm = seed
        var s = [UInt64](repeating: 0, count: 4)
        for i in 0..<4 { s[i] = RandomGenerator.splitMix64(&sm) }
        if s.allSatisfy({ $0 == 0 }) { s[0] = 0x9E37_79B9_7F4A_7C15 }
        state = s
    }

    public init(state: [UInt64]) throws {
        guard state.count == 4, !state.allSatisfy({ $0 == 0 }) else {
            throw TensorError.invalidArgument("random generator state must be 4 words, not all zero")
        }
        self.state = state
    }

    @inline(__always)
    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = RandomGenerator.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = RandomGenerator.rotl(state[3], 45)
        return result
    }

    /// An independent generator derived from this one (consumes one draw of the parent).
    public mutating func split() -> RandomGenerator {
        RandomGenerator(seed: next() ^ 0xD1B5_4A32_D192_ED03)
    }

    /// A generator for stream `index` derived from a base seed, without any shared state.
    public static func stream(seed: UInt64, index: UInt64) -> RandomGenerator {
        var sm = seed ^ (index &* 0x9E37_79B9_7F4A_7C15)
        return RandomGenerator(seed: splitMix64(&sm))
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform integer in 0..<bound.
    @inline(__always)
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next() % UInt64(bound))
    }

    /// Standard normal sample (Box-Muller, one value per call).
    public mutating func nextNormal() -> Float {
        var u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2))
    }

    /// Fills `buffer` with normal samples of the given standard deviation.
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, std: Float, mean: Float = 0) {
        for i in buffer.indices { buffer[i] = mean + std * nextNormal() }
    }

    /// Fills `buffer` with uniform samples in [low, high).
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, low: Float, high: Float) {
        for i in buffer.indices { buffer[i] = low + (high - low) * nextFloat() }
    }
}

@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }

import Foundation
