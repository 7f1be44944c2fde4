import Foundation
import Optim
import Tensor
import TestSupport
import XCTest

final class OptimizerTests: XCTestCase {
    func testAdamWMatchesClosedFormOverSteps() {
        // one decayed and one non-decayed segment, 37 values each (exercises SIMD body and tail)
        let n = 37
        var rng = RandomGenerator(seed: 4)
        let p = Tensor.uniform([2 * n], rng: &rng), g = Tensor(zeros: [2 * n])
        let hyper = AdamW.Hyper(beta1: 0.8, beta2: 0.9, eps: 1e-6, weightDecay: 0.5)
        let opt = AdamW(size: 2 * n, segments: [.init(offset: 0, count: n, decay: true), .init(offset: n, count: n, decay: false)], hyper: hyper)
        var ref = p.array.map(Double.init), m = [Double](repeating: 0, count: 2 * n), v = m
        for t in 1...5 {
            for i in 0..<(2 * n) { g[i] = Float(sin(Double(i * t))) }
            let lr = 0.01 * Double(t)
            opt.update(params: p.pointer, grads: g.pointer, lr: Float(lr))
            for i in 0..<(2 * n) {
                let gi = Double(g[i])
                if i < n { ref[i] *= 1 - lr * 0.5 }
                m[i] = 0.8 * m[i] + 0.2 * gi
                v[i] = 0.9 * v[i] + 0.1 * gi * gi
                let mh = m[i] / (1 - pow(0.8, Double(t))), vh = v[i] / (1 - pow(0.9, Double(t)))
                ref[i] -= lr * mh / (vh.squareRoot() + 1e-6)
            }
        }
        XCTAssertEqual(opt.step, 5)
        assertAllClose(p.array, ref.map(Float.init), rtol: 1e-5, atol: 1e-6, "adamw")
    }

    func testScheduleWarmupAndCosine() {
        let s = LearningRateSchedule(maxLR: 1, minLR: 0.1, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(s.rate(at: 0), 0.1, accuracy: 1e-7)
        XCTAssertEqual(s.rate(at: 9), 1, accuracy: 1e-7)
        XCTAssertEqual(s.rate(at: 10), 1, accuracy: 1e-7)
        XCTAssertEqual(s.rate(at: 60), 0.55, accuracy: 1e-6, "halfway through the cosine")
        XCTAssertEqual(s.rate(at: 110), 0.1, accuracy: 1e-7)
        XCTAssertEqual(s.rate(at: 500), 0.1, accuracy: 1e-7)
        for t in 10..<109 { XCTAssertGreaterThanOrEqual(s.rate(at: t), s.rate(at: t + 1)) }
    }

    func testClippingByGlobalNorm() {
        let g = try! Tensor(shape: [4], values: [3, 4, 0, 0])
        XCTAssertEqual(GradientClipping.clip(g.pointer, count: 4, maxNorm: 10), 5, accuracy: 1e-6)
        XCTAssertEqual(g.array, [3, 4, 0, 0], "below the bound: unchanged")
        XCTAssertEqual(GradientClipping.clip(g.pointer, count: 4, maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(GradientClipping.globalNorm(g.pointer, count: 4), 1, accuracy: 1e-5)
        var rng = RandomGenerator(seed: 1)
        let big = Tensor.uniform([300_001], rng: &rng)
        let ref = big.array.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(Double(GradientClipping.globalNorm(big.pointer, count: big.count)), ref, accuracy: ref * 1e-6)
    }
}
