import Foundation
import NN
import Tensor
import TestSupport
import XCTest

/// The from-scratch initialisation of low-rank factors reproduces the dense GPT-2 initialisation's output
/// (and input-gradient) variance, measured empirically on random inputs.
final class LowRankInitializationTests: XCTestCase {
    func testStandardDeviationsSatisfyTheVarianceEquation() {
        let sigma: Float = 0.02
        for (c, oc, r) in [(768, 768, 64), (768, 3072, 192), (576, 1536, 16), (3072, 768, 1)] {
            for split in LowRankInitialization.Split.allCases {
                let (sa, sb) = LowRankInitialization.standardDeviations(denseStd: sigma, inFeatures: c, outFeatures: oc, rank: r, split: split)
                let product = Double(r) * Double(sa * sa) * Double(sb * sb)
                XCTAssertEqual(product / Double(sigma * sigma), 1, accuracy: 1e-5, "\(split) \(c)x\(oc) r\(r)")
                switch split {
                case .equal: XCTAssertEqual(sa, sb)
                case .balanced: XCTAssertEqual(Double(c) * Double(sa * sa) / (Double(oc) * Double(sb * sb)), 1, accuracy: 1e-5)
                }
            }
        }
        // square layers: the two splits coincide, at (sigma^2 / r)^(1/4)
        let eq = LowRankInitialization.standardDeviations(denseStd: sigma, inFeatures: 256, outFeatures: 256, rank: 16, split: .equal)
        let ba = LowRankInitialization.standardDeviations(denseStd: sigma, inFeatures: 256, outFeatures: 256, rank: 16, split: .balanced)
        XCTAssertEqual(eq.a, ba.a, accuracy: 1e-7)
        XCTAssertEqual(eq.b, ba.b, accuracy: 1e-7)
        XCTAssertEqual(Double(eq.a), pow(0.0004 / 16, 0.25), accuracy: 1e-7)
    }

    /// Mean of squares of every element (the inputs are zero-mean, so this estimates the variance).
    private func meanSquare(_ t: Tensor) -> Double {
        var s = 0.0
        for i in 0..<t.count { s += Double(t[i]) * Double(t[i]) }
        return s / Double(t.count)
    }

    /// Empirical standard deviation of a filled factor (zero-mean check included).
    private func empiricalStd(_ t: Tensor) -> (mean: Double, std: Double) {
        var s = 0.0, s2 = 0.0
        for i in 0..<t.count { s += Double(t[i]); s2 += Double(t[i]) * Double(t[i]) }
        let m = s / Double(t.count)
        return (m, (s2 / Double(t.count) - m * m).squareRoot())
    }

    func testEmpiricalOutputAndGradientVarianceMatchDenseInit() {
        // Non-square so that the two splits differ. Averaged over several weight draws; the expected relative
        // spread of one draw's output variance is sqrt(2 (1/in + 1/out) / r) ~ 1.4%, of the input sampling ~0.6%.
        let (c, oc, r, n) = (512, 256, 64, 512)
        let sigma: Float = 0.02
        let inputStd: Float = 1.5
        let draws = 4
        for split in LowRankInitialization.Split.allCases {
            var rng = RandomGenerator(seed: 97)
            var dense = 0.0, lowRank = 0.0, denseGrad = 0.0, lowRankGrad = 0.0
            for _ in 0..<draws {
                let x = Tensor.normal([n, c], std: inputStd, rng: &rng)
                let dy = Tensor.normal([n, oc], std: 1, rng: &rng)
                let w = Tensor.normal([oc, c], std: sigma, rng: &rng)
                let a = Tensor(zeros: [r, c]), b = Tensor(zeros: [oc, r])
                LowRankInitialization.initialize(weightA: a.pointer, weightB: b.pointer, inFeatures: c, outFeatures: oc, rank: r,
                                                 denseStd: sigma, split: split, rng: &rng)
                let (sa, sb) = LowRankInitialization.standardDeviations(denseStd: sigma, inFeatures: c, outFeatures: oc, rank: r, split: split)
                let ea = empiricalStd(a), eb = empiricalStd(b)
                XCTAssertEqual(ea.std / Double(sa), 1, accuracy: 0.02, "std of A")
                XCTAssertEqual(eb.std / Double(sb), 1, accuracy: 0.03, "std of B")
                XCTAssertEqual(ea.mean, 0, accuracy: 4 * Double(sa) / Double(r * c).squareRoot())
                XCTAssertEqual(eb.mean, 0, accuracy: 4 * Double(sb) / Double(oc * r).squareRoot())

                let yDense = Tensor(zeros: [n, oc]), yLow = Tensor(zeros: [n, oc]), h = Tensor(zeros: [n, r])
                Linear.forward(out: yDense.pointer, inp: x.pointer, weight: w.pointer, bias: nil, rows: n, inFeatures: c, outFeatures: oc)
                LowRankLinear.forward(out: yLow.pointer, hidden: h.pointer, inp: x.pointer, weightA: a.pointer, weightB: b.pointer,
                                      bias: nil, rows: n, inFeatures: c, rank: r, outFeatures: oc)
                dense += meanSquare(yDense) / Double(draws)
                lowRank += meanSquare(yLow) / Double(draws)

                let dxDense = Tensor(zeros: [n, c]), dxLow = Tensor(zeros: [n, c]), dh = Tensor(zeros: [n, r])
                Linear.backward(dinp: dxDense.pointer, dweight: nil, dbias: nil, dout: dy.pointer, inp: x.pointer, weight: w.pointer,
                                rows: n, inFeatures: c, outFeatures: oc)
                LowRankLinear.backward(dinp: dxLow.pointer, dweightA: nil, dweightB: nil, dbias: nil, dhidden: dh.pointer, dout: dy.pointer,
                                       inp: x.pointer, hidden: h.pointer, weightA: a.pointer, weightB: b.pointer,
                                       rows: n, inFeatures: c, rank: r, outFeatures: oc)
                denseGrad += meanSquare(dxDense) / Double(draws)
                lowRankGrad += meanSquare(dxLow) / Double(draws)
            }
            let theory = Double(c) * Double(sigma * sigma) * Double(inputStd * inputStd)
            let gradTheory = Double(oc) * Double(sigma * sigma)
            print("low-rank init \(split): output variance dense \(dense), low-rank \(lowRank), theory \(theory); "
                + "input-gradient variance dense \(denseGrad), low-rank \(lowRankGrad), theory \(gradTheory)")
            XCTAssertEqual(dense / theory, 1, accuracy: 0.02, "dense output variance vs theory")
            XCTAssertEqual(lowRank / dense, 1, accuracy: 0.04, "\(split): low-rank output variance vs dense")
            XCTAssertEqual(lowRank / theory, 1, accuracy: 0.04, "\(split): low-rank output variance vs theory")
            XCTAssertEqual(denseGrad / gradTheory, 1, accuracy: 0.02, "dense gradient variance vs theory")
            XCTAssertEqual(lowRankGrad / denseGrad, 1, accuracy: 0.04, "\(split): low-rank gradient variance vs dense")
        }
    }

    func testInitializationIsReproducibleFromTheGenerator() {
        let (c, oc, r) = (20, 30, 4)
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        let a1 = Tensor(zeros: [r, c]), b1 = Tensor(zeros: [oc, r]), a2 = Tensor(zeros: [r, c]), b2 = Tensor(zeros: [oc, r])
        LowRankInitialization.initialize(weightA: a1.pointer, weightB: b1.pointer, inFeatures: c, outFeatures: oc, rank: r, denseStd: 0.02, rng: &g1)
        LowRankInitialization.initialize(weightA: a2.pointer, weightB: b2.pointer, inFeatures: c, outFeatures: oc, rank: r, denseStd: 0.02, rng: &g2)
        XCTAssertEqual(a1.array, a2.array)
        XCTAssertEqual(b1.array, b2.array)
        XCTAssertEqual(g1, g2)
    }
}
