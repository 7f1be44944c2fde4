@testable import NN
import Tensor
import XCTest

/// The dropout mask is a pure function of (seed, index): the vector loops must agree with the
/// per-element definition everywhere (tails included), keep about 1 - rate of the elements, and give
/// independent masks for different seeds.
final class HashedDropoutTests: XCTestCase {
    func testVectorLoopsMatchThePerElementMask() {
        var rng = RandomGenerator(seed: 3)
        for count in [1, 7, 8, 9, 1000, 70_001, 200_003] {
            let rate: Float = 0.25, seed: UInt64 = 0xDEAD_BEEF &+ UInt64(count), scale: Float = 1 / (1 - rate)
            let x = Tensor.normal([count], std: 1, rng: &rng)
            let out = Tensor(zeros: [count])
            HashedDropout.forward(out: out.pointer, inp: x.pointer, count: count, rate: rate, seed: seed)
            let dinp = Tensor(zeros: [count]), dout = Tensor.normal([count], std: 1, rng: &rng)
            dinp.fill(0.5)
            HashedDropout.backwardAccumulate(dinp: dinp.pointer, dout: dout.pointer, count: count, rate: rate, seed: seed)
            var mismatches = 0
            for i in 0..<count {
                let kept = HashedDropout.keeps(i, rate: rate, seed: seed)
                let expectedOut: Float = kept ? x.pointer[i] * scale : 0
                let expectedGrad: Float = 0.5 + (kept ? dout.pointer[i] * scale : 0)
                if out.pointer[i] != expectedOut || abs(dinp.pointer[i] - expectedGrad) > 1e-6 { mismatches += 1 }
            }
            XCTAssertEqual(mismatches, 0, "count \(count)")
        }
    }

    func testKeepRateAndSeedIndependence() {
        let n = 200_000
        for rate: Float in [0.05, 0.1, 0.5] {
            let a = (0..<n).map { HashedDropout.keeps($0, rate: rate, seed: 11) }
            let b = (0..<n).map { HashedDropout.keeps($0, rate: rate, seed: 12) }
            let keptA = Double(a.filter { $0 }.count) / Double(n)
            XCTAssertEqual(keptA, Double(1 - rate), accuracy: 0.005, "rate \(rate)")
            // two seeds: both drop an element about rate^2 of the time (independent masks)
            let bothDropped = Double(zip(a, b).filter { !$0 && !$1 }.count) / Double(n)
            XCTAssertEqual(bothDropped, Double(rate * rate), accuracy: 0.003, "rate \(rate)")
            // neighbouring elements are not correlated either
            let pairsDropped = Double((0..<(n - 1)).filter { !a[$0] && !a[$0 + 1] }.count) / Double(n - 1)
            XCTAssertEqual(pairsDropped, Double(rate * rate), accuracy: 0.003, "rate \(rate)")
        }
    }

    func testEdgeRates() {
        let x: [Float] = Array(repeating: 2, count: 19)
        var out = [Float](repeating: 7, count: 19)
        HashedDropout.forward(out: &out, inp: x, count: 19, rate: 0, seed: 1)
        XCTAssertEqual(out, x, "rate 0 keeps everything")
        HashedDropout.forward(out: &out, inp: x, count: 19, rate: 1, seed: 1)
        XCTAssertEqual(out, [Float](repeating: 0, count: 19), "rate 1 drops everything")
        XCTAssertFalse(HashedDropout.keeps(3, rate: 1, seed: 1))
    }
}
