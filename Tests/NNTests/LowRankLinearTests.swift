import Foundation
import NN
import Tensor
import TestSupport
import XCTest

/// LowRankLinear: finite-difference gradients, agreement with a dense Linear of weight B A, and the
/// accumulate / skip contract of backward.
final class LowRankLinearTests: XCTestCase {
    var rng = RandomGenerator(seed: 29)

    func testGradientsMatchFiniteDifferences() {
        let (n, c, r, oc) = (5, 7, 3, 6)
        let x = Tensor.uniform([n, c], rng: &rng), a = Tensor.uniform([r, c], rng: &rng)
        let b = Tensor.uniform([oc, r], rng: &rng), bias = Tensor.uniform([oc], rng: &rng)
        let weights = Tensor.uniform([n, oc], rng: &rng)
        let out = Tensor(zeros: [n, oc]), hidden = Tensor(zeros: [n, r])
        let f: () -> Double = {
            LowRankLinear.forward(out: out.pointer, hidden: hidden.pointer, inp: x.pointer, weightA: a.pointer, weightB: b.pointer,
                                  bias: bias.pointer, rows: n, inFeatures: c, rank: r, outFeatures: oc)
            return GradientCheck.weightedSum(out.pointer, weights.pointer, count: n * oc)
        }
        _ = f()
        // hidden is x A^T, computed directly
        for i in 0..<n {
            for k in 0..<r {
                var s = 0.0
                for j in 0..<c { s += Double(x[i * c + j]) * Double(a[k * c + j]) }
                XCTAssertEqual(Double(hidden[i * r + k]), s, accuracy: 1e-5)
            }
        }
        let dx = Tensor(zeros: [n, c]), da = Tensor(zeros: [r, c]), db = Tensor(zeros: [oc, r]), dbias = Tensor(zeros: [oc])
        let dhidden = Tensor(zeros: [n, r])
        LowRankLinear.backward(dinp: dx.pointer, dweightA: da.pointer, dweightB: db.pointer, dbias: dbias.pointer, dhidden: dhidden.pointer,
                               dout: weights.pointer, inp: x.pointer, hidden: hidden.pointer, weightA: a.pointer, weightB: b.pointer,
                               rows: n, inFeatures: c, rank: r, outFeatures: oc)
        GradientCheck.assertMatches(dx.pointer, GradientCheck.numeric(f, at: x.pointer, count: n * c), "dx")
        GradientCheck.assertMatches(da.pointer, GradientCheck.numeric(f, at: a.pointer, count: r * c), "dA")
        GradientCheck.assertMatches(db.pointer, GradientCheck.numeric(f, at: b.pointer, count: oc * r), "dB")
        GradientCheck.assertMatches(dbias.pointer, GradientCheck.numeric(f, at: bias.pointer, count: oc), "dbias")
    }

    func testForwardEqualsLinearWithMergedWeight() {
        let (n, c, r, oc) = (9, 13, 4, 11)
        let x = Tensor.uniform([n, c], rng: &rng), a = Tensor.uniform([r, c], rng: &rng)
        let b = Tensor.uniform([oc, r], rng: &rng), bias = Tensor.uniform([oc], rng: &rng)
        // W = B A by the scalar double-precision reference, independent of sgemm
        let w = Tensor(zeros: [oc, c])
        BLAS.gemmReference(m: oc, n: c, k: r, a: b.pointer, b: a.pointer, c: w.pointer)
        let merged = Tensor(zeros: [oc, c])
        LowRankLinear.merge(weight: merged.pointer, weightA: a.pointer, weightB: b.pointer, inFeatures: c, rank: r, outFeatures: oc)
        assertAllClose(merged.pointer, w.pointer, count: oc * c, rtol: 1e-5, atol: 1e-6, "merge")

        for useBias in [true, false] {
            let dense = Tensor(zeros: [n, oc]), lowRank = Tensor(zeros: [n, oc]), hidden = Tensor(zeros: [n, r])
            Linear.forward(out: dense.pointer, inp: x.pointer, weight: w.pointer, bias: useBias ? bias.pointer : nil,
                           rows: n, inFeatures: c, outFeatures: oc)
            lowRank.fill(.nan) // forward must overwrite, not accumulate
            LowRankLinear.forward(out: lowRank.pointer, hidden: hidden.pointer, inp: x.pointer, weightA: a.pointer, weightB: b.pointer,
                                  bias: useBias ? bias.pointer : nil, rows: n, inFeatures: c, rank: r, outFeatures: oc)
            assertAllClose(lowRank.pointer, dense.pointer, count: n * oc, rtol: 1e-5, atol: 1e-5, "forward bias=\(useBias)")
        }
    }

    func testBackwardEqualsDenseChainRule() {
        // dinp equals the dense layer's dinp with W = B A; dA = B^T dW and dB = dW A^T with dW = dout^T x.
        let (n, c, r, oc) = (6, 10, 3, 8)
        let x = Tensor.uniform([n, c], rng: &rng), a = Tensor.uniform([r, c], rng: &rng), b = Tensor.uniform([oc, r], rng: &rng)
        let dout = Tensor.uniform([n, oc], rng: &rng)
        let w = Tensor(zeros: [oc, c]), hidden = Tensor(zeros: [n, r]), out = Tensor(zeros: [n, oc])
        BLAS.gemmReference(m: oc, n: c, k: r, a: b.pointer, b: a.pointer, c: w.pointer)
        LowRankLinear.forward(out: out.pointer, hidden: hidden.pointer, inp: x.pointer, weightA: a.pointer, weightB: b.pointer,
                              bias: nil, rows: n, inFeatures: c, rank: r, outFeatures: oc)
        let denseDx = Tensor(zeros: [n, c]), denseDw = Tensor(zeros: [oc, c])
        Linear.backward(dinp: denseDx.pointer, dweight: denseDw.pointer, dbias: nil, dout: dout.pointer, inp: x.pointer, weight: w.pointer,
                        rows: n, inFeatures: c, outFeatures: oc)
        let expectedDa = Tensor(zeros: [r, c]), expectedDb = Tensor(zeros: [oc, r])
        BLAS.gemmReference(transA: true, m: r, n: c, k: oc, a: b.pointer, b: denseDw.pointer, c: expectedDa.pointer)
        BLAS.gemmReference(transB: true, m: oc, n: r, k: c, a: denseDw.pointer, b: a.pointer, c: expectedDb.pointer)

        let dx = Tensor(zeros: [n, c]), da = Tensor(zeros: [r, c]), db = Tensor(zeros: [oc, r]), dhidden = Tensor(zeros: [n, r])
        LowRankLinear.backward(dinp: dx.pointer, dweightA: da.pointer, dweightB: db.pointer, dbias: nil, dhidden: dhidden.pointer,
                               dout: dout.pointer, inp: x.pointer, hidden: hidden.pointer, weightA: a.pointer, weightB: b.pointer,
                               rows: n, inFeatures: c, rank: r, outFeatures: oc)
        assertAllClose(dx.pointer, denseDx.pointer, count: n * c, rtol: 1e-4, atol: 1e-5, "dinp")
        assertAllClose(da.pointer, expectedDa.pointer, count: r * c, rtol: 1e-4, atol: 1e-5, "dA")
        assertAllClose(db.pointer, expectedDb.pointer, count: oc * r, rtol: 1e-4, atol: 1e-5, "dB")
    }

    func testBackwardAccumulatesAndSkipsNilGradients() {
        let (n, c, r, oc) = (4, 6, 2, 5)
        let x = Tensor.uniform([n, c], rng: &rng), a = Tensor.uniform([r, c], rng: &rng), b = Tensor.uniform([oc, r], rng: &rng)
        let dout = Tensor.uniform([n, oc], rng: &rng)
        let hidden = Tensor(zeros: [n, r]), out = Tensor(zeros: [n, oc]), dhidden = Tensor(zeros: [n, r])
        LowRankLinear.forward(out: out.pointer, hidden: hidden.pointer, inp: x.pointer, weightA: a.pointer, weightB: b.pointer,
                              bias: nil, rows: n, inFeatures: c, rank: r, outFeatures: oc)
        func run(_ dx: Tensor?, _ da: Tensor?, _ db: Tensor?, _ dbias: Tensor?) {
            LowRankLinear.backward(dinp: dx?.pointer, dweightA: da?.pointer, dweightB: db?.pointer, dbias: dbias?.pointer, dhidden: dhidden.pointer,
                                   dout: dout.pointer, inp: x.pointer, hidden: hidden.pointer, weightA: a.pointer, weightB: b.pointer,
                                   rows: n, inFeatures: c, rank: r, outFeatures: oc)
        }
        let fx = Tensor(zeros: [n, c]), fa = Tensor(zeros: [r, c]), fb = Tensor(zeros: [oc, r]), fbias = Tensor(zeros: [oc])
        run(fx, fa, fb, fbias)

        // each gradient alone, starting from a non-zero value: the result is that value plus the full call's
        let start: Float = 0.5
        for which in 0..<4 {
            let gx = Tensor(zeros: [n, c]), ga = Tensor(zeros: [r, c]), gb = Tensor(zeros: [oc, r]), gbias = Tensor(zeros: [oc])
            let pairs = [(gx, fx), (ga, fa), (gb, fb), (gbias, fbias)]
            pairs[which].0.fill(start)
            run(which == 0 ? gx : nil, which == 1 ? ga : nil, which == 2 ? gb : nil, which == 3 ? gbias : nil)
            for (i, (g, full)) in pairs.enumerated() {
                for j in 0..<g.count {
                    if i == which {
                        XCTAssertEqual(g[j], start + full[j], accuracy: 1e-5, "gradient \(i) alone")
                    } else {
                        XCTAssertEqual(g[j], 0, "gradient \(i) must stay untouched when nil")
                    }
                }
            }
        }
    }

    func testParameterCountAndBreakEvenRank() {
        XCTAssertEqual(LowRankLinear.parameterCount(inFeatures: 768, outFeatures: 3072, rank: 64, bias: true), 64 * (768 + 3072) + 3072)
        XCTAssertEqual(LowRankLinear.parameterCount(inFeatures: 576, outFeatures: 1536, rank: 128, bias: false), 128 * 2112)
        for (c, oc) in [(768, 768), (768, 3072), (576, 1536), (2, 2), (1, 9), (5, 7)] {
            let r = LowRankLinear.breakEvenRank(inFeatures: c, outFeatures: oc)
            XCTAssertLessThan(r * (c + oc), c * oc, "\(c)x\(oc)")
            XCTAssertGreaterThanOrEqual((r + 1) * (c + oc), c * oc, "\(c)x\(oc)")
        }
        XCTAssertEqual(LowRankLinear.breakEvenRank(inFeatures: 768, outFeatures: 768), 383)
    }
}
