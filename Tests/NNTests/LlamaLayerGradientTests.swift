import Foundation
import NN
import Tensor
import TestSupport
import XCTest

/// Finite-difference checks of the LLaMA layers.
final class LlamaLayerGradientTests: XCTestCase {
    var rng = RandomGenerator(seed: 21)

    func testRMSNormForwardAndGradients() {
        let (n, c) = (4, 37)
        let x = Tensor.uniform([n, c], low: -2, high: 2, rng: &rng), w = Tensor.uniform([c], rng: &rng)
        let r = Tensor.uniform([n, c], rng: &rng), out = Tensor(zeros: [n, c]), rstd = Tensor(zeros: [n])
        let f: () -> Double = {
            RMSNorm.forward(out: out.pointer, rstd: rstd.pointer, inp: x.pointer, weight: w.pointer, rows: n, channels: c, eps: 1e-6)
            return GradientCheck.weightedSum(out.pointer, r.pointer, count: n * c)
        }
        _ = f()
        for row in 0..<n {
            let ms = (0..<c).map { Double(x[row * c + $0]) * Double(x[row * c + $0]) }.reduce(0, +) / Double(c)
            for j in 0..<c { XCTAssertEqual(Double(out[row * c + j]), Double(x[row * c + j]) / (ms + 1e-6).squareRoot() * Double(w[j]), accuracy: 1e-5) }
        }
        let dx = Tensor(zeros: [n, c]), dw = Tensor(zeros: [c])
        RMSNorm.backward(dinp: dx.pointer, dweight: dw.pointer, dout: r.pointer, inp: x.pointer, weight: w.pointer, rstd: rstd.pointer, rows: n, channels: c)
        GradientCheck.assertMatches(dx.pointer, GradientCheck.numeric(f, at: x.pointer, count: n * c, eps: 1e-3), "dx")
        GradientCheck.assertMatches(dw.pointer, GradientCheck.numeric(f, at: w.pointer, count: c, eps: 1e-3), "dw")
    }

    func testRotaryMatchesDirectFormulaAndItsBackward() {
        let (seq, heads, hd) = (5, 2, 8)
        let rope = RotaryEmbedding(headDim: hd, maxPositions: 16, base: 10000)
        let x = Tensor.uniform([2 * seq, heads * hd], rng: &rng)
        let y = x.copy()
        rope.apply(y.pointer, rows: 2 * seq, seq: seq, ld: heads * hd, heads: heads, startPosition: 3)
        for row in 0..<(2 * seq) {
            let pos = Double(3 + row % seq)
            for h in 0..<heads {
                for i in 0..<(hd / 2) {
                    let theta = pos * pow(10000, -Double(2 * i) / Double(hd))
                    let a = Double(x[row * heads * hd + h * hd + i]), b = Double(x[row * heads * hd + h * hd + i + hd / 2])
                    XCTAssertEqual(Double(y[row * heads * hd + h * hd + i]), a * cos(theta) - b * sin(theta), accuracy: 1e-5)
                    XCTAssertEqual(Double(y[row * heads * hd + h * hd + i + hd / 2]), b * cos(theta) + a * sin(theta), accuracy: 1e-5)
                }
            }
        }
        // backward = transpose: <R x, r> = <x, R^T r>
        let r = Tensor.uniform([2 * seq, heads * hd], rng: &rng), rt = r.copy()
        rope.backward(rt.pointer, rows: 2 * seq, seq: seq, ld: heads * hd, heads: heads, startPosition: 3)
        XCTAssertEqual(GradientCheck.weightedSum(y.pointer, r.pointer, count: r.count), GradientCheck.weightedSum(x.pointer, rt.pointer, count: r.count), accuracy: 1e-4)
    }

    func testSwiGLUGradients() {
        let n = 200
        let g = Tensor.uniform([n], low: -5, high: 5, rng: &rng), u = Tensor.uniform([n], rng: &rng)
        let r = Tensor.uniform([n], rng: &rng), out = Tensor(zeros: [n]), ref = Tensor(zeros: [n])
        let f: () -> Double = {
            SwiGLU.forward(out: out.pointer, gate: g.pointer, up: u.pointer, count: n)
            return GradientCheck.weightedSum(out.pointer, r.pointer, count: n)
        }
        _ = f()
        SwiGLU.forwardReference(out: ref.pointer, gate: g.pointer, up: u.pointer, count: n)
        assertAllClose(out.pointer, ref.pointer, count: n, rtol: 1e-5, atol: 1e-6, "swiglu")
        let dg = Tensor(zeros: [n]), du = Tensor(zeros: [n])
        SwiGLU.backward(dgate: dg.pointer, dup: du.pointer, dout: r.pointer, gate: g.pointer, up: u.pointer, count: n)
        GradientCheck.assertMatches(dg.pointer, GradientCheck.numeric(f, at: g.pointer, count: n, eps: 1e-3), "dgate")
        GradientCheck.assertMatches(du.pointer, GradientCheck.numeric(f, at: u.pointer, count: n, eps: 1e-3), "dup")
    }

    func testGroupedQueryAttentionGradients() {
        // 4 query heads share 2 kv heads; q, k, v in separate buffers with padded strides
        let (batch, seq, heads, kv, hd) = (2, 7, 4, 2, 4)
        let l = CausalSelfAttention.Layout(batch: batch, seq: seq, heads: heads, kvHeads: kv, headDim: hd,
                                           ldq: heads * hd + 3, ldk: kv * hd + 1, ldv: kv * hd, ldo: heads * hd)
        let n = batch * seq
        let q = Tensor.uniform([n * l.ldq], rng: &rng), k = Tensor.uniform([n * l.ldk], rng: &rng), v = Tensor.uniform([n * l.ldv], rng: &rng)
        let out = Tensor(zeros: [n * l.ldo]), att = Tensor(zeros: [batch * heads * seq * seq]), r = Tensor.uniform([n * l.ldo], rng: &rng)
        let f: () -> Double = {
            CausalSelfAttention.forward(out: out.pointer, att: att.pointer, q: q.pointer, k: k.pointer, v: v.pointer, layout: l)
            return GradientCheck.weightedSum(out.pointer, r.pointer, count: n * l.ldo)
        }
        _ = f()
        // head 1 and head 0 share kv head 0: check head 1 of position 2 directly
        let t = 2, h = 1
        var scores: [Double] = []
        for s in 0...t {
            var d = 0.0
            for i in 0..<hd { d += Double(q[t * l.ldq + h * hd + i]) * Double(k[s * l.ldk + 0 * hd + i]) }
            scores.append(d / Double(hd).squareRoot())
        }
        let m = scores.max()!, e = scores.map { exp($0 - m) }, z = e.reduce(0, +)
        for i in 0..<hd {
            let y = (0...t).reduce(0.0) { $0 + e[$1] / z * Double(v[$1 * l.ldv + i]) }
            XCTAssertEqual(Double(out[t * l.ldo + h * hd + i]), y, accuracy: 1e-5)
        }
        let dq = Tensor(zeros: [n * l.ldq]), dk = Tensor(zeros: [n * l.ldk]), dv = Tensor(zeros: [n * l.ldv])
        CausalSelfAttention.backward(dq: dq.pointer, dk: dk.pointer, dv: dv.pointer, dout: r.pointer, q: q.pointer, k: k.pointer, v: v.pointer,
                                     att: att.pointer, layout: l)
        GradientCheck.assertMatches(dq.pointer, GradientCheck.numeric(f, at: q.pointer, count: q.count, eps: 1e-3), "dq")
        GradientCheck.assertMatches(dk.pointer, GradientCheck.numeric(f, at: k.pointer, count: k.count, eps: 1e-3), "dk")
        GradientCheck.assertMatches(dv.pointer, GradientCheck.numeric(f, at: v.pointer, count: v.count, eps: 1e-3), "dv")
    }
}
