import Foundation
import NN
import Tensor
import TestSupport
import XCTest

/// TruncatedSVD against properties that characterise an SVD (orthonormal factors, sorted non-negative
/// singular values, exact reconstruction) and against matrices with a spectrum known by construction.
final class TruncatedSVDTests: XCTestCase {
    var rng = RandomGenerator(seed: 71)

    /// Tall, wide and square shapes.
    let shapes = [(40, 17), (13, 50), (32, 32)]

    /// Squared Frobenius norm in double.
    private func frobenius2(_ p: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(p[i]) * Double(p[i]) }
        return s
    }

    /// max |M^T M - I| for M [rows, cols] (columns orthonormal), by double loops.
    private func columnOrthonormalityError(_ m: Tensor) -> Double {
        let rows = m.shape[0], cols = m.shape[1]
        var worst = 0.0
        for i in 0..<cols {
            for j in 0..<cols {
                var d = 0.0
                for r in 0..<rows { d += Double(m[r * cols + i]) * Double(m[r * cols + j]) }
                worst = max(worst, abs(d - (i == j ? 1 : 0)))
            }
        }
        return worst
    }

    /// M^T for a row-major [rows, cols] tensor.
    private func transpose(_ m: Tensor) -> Tensor {
        let rows = m.shape[0], cols = m.shape[1]
        let t = Tensor(zeros: [cols, rows])
        for i in 0..<rows { for j in 0..<cols { t[j * rows + i] = m[i * cols + j] } }
        return t
    }

    func testDecompositionIsAnSVD() throws {
        for (m, n) in shapes {
            let w = Tensor.uniform([m, n], rng: &rng)
            let k = min(m, n)
            let (u, s, vt) = try TruncatedSVD.decompose(w.pointer, rows: m, columns: n)
            XCTAssertEqual(u.shape, [m, k])
            XCTAssertEqual(s.count, k)
            XCTAssertEqual(vt.shape, [k, n])
            // sorted, non-negative, sum of squares = ||W||_F^2
            XCTAssertTrue(s.allSatisfy { $0 >= 0 })
            XCTAssertEqual(s, s.sorted(by: >), "\(m)x\(n): singular values must be descending")
            let norm2 = frobenius2(w.pointer, count: m * n)
            XCTAssertEqual(s.map { Double($0) * Double($0) }.reduce(0, +) / norm2, 1, accuracy: 1e-5)
            // orthonormal columns of U and rows of Vt
            XCTAssertLessThan(columnOrthonormalityError(u), 1e-5, "\(m)x\(n): U^T U = I")
            XCTAssertLessThan(columnOrthonormalityError(transpose(vt)), 1e-5, "\(m)x\(n): Vt Vt^T = I")
            // U diag(S) Vt reproduces W (double-precision loops, independent of BLAS)
            var worst: Float = 0
            for i in 0..<m {
                for j in 0..<n {
                    var acc = 0.0
                    for p in 0..<k { acc += Double(u[i * k + p]) * Double(s[p]) * Double(vt[p * n + j]) }
                    worst = max(worst, abs(Float(acc) - w[i * n + j]))
                }
            }
            XCTAssertLessThan(worst, 1e-5, "\(m)x\(n): reconstruction")
            // the transpose has the same singular values (checks the row/column-major handling once more)
            let wt = transpose(w)
            let st = try withExtendedLifetime(wt) { try TruncatedSVD.decompose(wt.pointer, rows: n, columns: m).s }
            for p in 0..<k { XCTAssertEqual(st[p], s[p], accuracy: 1e-5 * s[0]) }
        }
    }

    func testFullRankFactorizationIsExactAndBalanced() throws {
        for (m, n) in shapes {
            let w = Tensor.uniform([m, n], rng: &rng)
            let k = min(m, n)
            let f = try TruncatedSVD.factorize(w.pointer, rows: m, columns: n, rank: k)
            XCTAssertEqual(f.b.shape, [m, k])
            XCTAssertEqual(f.a.shape, [k, n])
            XCTAssertEqual(f.energyKept, 1, accuracy: 1e-12)
            XCTAssertLessThan(f.relativeError, 1e-5, "\(m)x\(n)")
            // B^T B = A A^T = diag(S)
            let s = try TruncatedSVD.decompose(w.pointer, rows: m, columns: n).s
            let btb = Tensor(zeros: [k, k]), aat = Tensor(zeros: [k, k])
            BLAS.gemmReference(transA: true, m: k, n: k, k: m, a: f.b.pointer, b: f.b.pointer, c: btb.pointer)
            BLAS.gemmReference(transB: true, m: k, n: k, k: n, a: f.a.pointer, b: f.a.pointer, c: aat.pointer)
            for i in 0..<k {
                for j in 0..<k {
                    let expected = i == j ? s[i] : 0
                    XCTAssertEqual(btb[i * k + j], expected, accuracy: 1e-4 * s[0])
                    XCTAssertEqual(aat[i * k + j], expected, accuracy: 1e-4 * s[0])
                }
            }
        }
    }

    func testTruncationErrorEqualsTailEnergy() throws {
        for (m, n) in shapes {
            let w = Tensor.uniform([m, n], rng: &rng)
            let k = min(m, n)
            let svd = try TruncatedSVD.decompose(w.pointer, rows: m, columns: n)
            let norm2 = frobenius2(w.pointer, count: m * n)
            for r in Set([1, 2, k / 4, k / 2, k - 1]) where r >= 1 {
                let f = try TruncatedSVD.factors(u: svd.u, s: svd.s, vt: svd.vt, rank: r, original: w.pointer)
                var tail = 0.0
                for p in r..<k { tail += Double(svd.s[p]) * Double(svd.s[p]) }
                let expected = (tail / norm2).squareRoot()
                XCTAssertEqual(f.relativeError, expected, accuracy: 1e-5, "\(m)x\(n) rank \(r)")
                XCTAssertEqual(f.energyKept, 1 - tail / norm2, accuracy: 1e-5)
                // the error reported is the directly computed one: recompute B A with the scalar reference
                let product = Tensor(zeros: [m, n])
                BLAS.gemmReference(m: m, n: n, k: r, a: f.b.pointer, b: f.a.pointer, c: product.pointer)
                var diff = 0.0
                for i in 0..<(m * n) { diff += pow(Double(w[i]) - Double(product[i]), 2) }
                XCTAssertEqual(f.relativeError, (diff / norm2).squareRoot(), accuracy: 1e-6)
            }
            // one-call factorize agrees with factors from a decomposition
            let direct = try TruncatedSVD.factorize(w.pointer, rows: m, columns: n, rank: k / 2)
            let tail = svd.s[(k / 2)...].map { Double($0) * Double($0) }.reduce(0, +)
            XCTAssertEqual(direct.relativeError, (tail / norm2).squareRoot(), accuracy: 1e-5)
        }
    }

    /// W = Q1 diag(s) Q2 with orthonormal Q1 [m,k], Q2 [k,n] taken from the SVDs of random matrices.
    private func matrix(withSpectrum s: [Float], rows m: Int, columns n: Int) throws -> Tensor {
        let k = s.count
        let g1 = Tensor.normal([m, k], std: 1, rng: &rng), g2 = Tensor.normal([k, n], std: 1, rng: &rng)
        let q1 = try withExtendedLifetime(g1) { try TruncatedSVD.decompose(g1.pointer, rows: m, columns: k).u }   // [m, k]
        let q2 = try withExtendedLifetime(g2) { try TruncatedSVD.decompose(g2.pointer, rows: k, columns: n).vt }  // [k, n]
        let scaled = Tensor(zeros: [m, k])
        for i in 0..<m { for p in 0..<k { scaled[i * k + p] = q1[i * k + p] * s[p] } }
        let w = Tensor(zeros: [m, n])
        BLAS.gemmReference(m: m, n: n, k: k, a: scaled.pointer, b: q2.pointer, c: w.pointer)
        return w
    }

    func testEnergyRankOnAKnownSpectrum() throws {
        // s_i = 0.7^i: cumulative energy shares 0.51, 0.75, 0.877, 0.940, 0.972, 0.986, 0.993, ..., so the
        // smallest ranks keeping 0.5 / 0.9 / 0.99 / 0.999 of the energy are 1 / 4 / 7 / 10.
        let (m, n, k) = (48, 24, 24)
        let s = (0..<k).map { Float(pow(0.7, Double($0))) }
        let w = try matrix(withSpectrum: s, rows: m, columns: n)
        let svd = try TruncatedSVD.decompose(w.pointer, rows: m, columns: n)
        for p in 0..<k { XCTAssertEqual(svd.s[p], s[p], accuracy: 2e-6, "singular value \(p)") }
        for (e, expected) in [(0.5, 1), (0.9, 4), (0.99, 7), (0.999, 10)] {
            XCTAssertEqual(try RankSpec.energy(e).resolve(in: n, out: m, singularValues: svd.s, layer: "w"), expected, "energy \(e)")
            let f = try XCTUnwrap(TruncatedSVD.factorize(w.pointer, rows: m, columns: n, spec: .energy(e), layer: "w"))
            XCTAssertEqual(f.b.shape, [m, expected])
            XCTAssertEqual(f.a.shape, [expected, n])
            XCTAssertGreaterThanOrEqual(f.energyKept, e)
            // known tail: sum_{i>=r} 0.49^i / sum_i 0.49^i
            let shares: [Double] = (0..<k).map { pow(0.49, Double($0)) }
            let tailEnergy: Double = shares[expected...].reduce(0, +)
            let tail = tailEnergy / shares.reduce(0, +)
            XCTAssertEqual(f.relativeError, tail.squareRoot(), accuracy: 2e-5, "energy \(e)")
        }
        XCTAssertNil(try TruncatedSVD.factorize(w.pointer, rows: m, columns: n, spec: .dense, layer: "w"))
        XCTAssertEqual(try TruncatedSVD.factorize(w.pointer, rows: m, columns: n, spec: .fraction(0.25), layer: "w")?.a.shape, [6, n])
        // a flat spectrum needs rank 23 for 95%: beyond break-even (15 for 48 x 24), so the layer stays
        // dense under an energy threshold, while an explicit rank is honoured
        let flat = try matrix(withSpectrum: [Float](repeating: 1, count: k), rows: m, columns: n)
        XCTAssertEqual(LowRankLinear.breakEvenRank(inFeatures: n, outFeatures: m), 15)
        XCTAssertNil(try TruncatedSVD.factorize(flat.pointer, rows: m, columns: n, spec: .energy(0.95), layer: "w"))
        XCTAssertEqual(try TruncatedSVD.factorize(flat.pointer, rows: m, columns: n, spec: .energy(0.6), layer: "w")?.a.shape[0], 15)
        XCTAssertEqual(try TruncatedSVD.factorize(flat.pointer, rows: m, columns: n, spec: .absolute(20), layer: "w")?.a.shape[0], 20)
    }

    func testRankDeficientMatrix() throws {
        // rank 3 by construction: the rank-3 factorisation is exact and the other singular values vanish
        let s: [Float] = [5, 2, 0.5, 0, 0, 0, 0, 0]
        let w = try matrix(withSpectrum: s, rows: 20, columns: 8)
        let f = try TruncatedSVD.factorize(w.pointer, rows: 20, columns: 8, rank: 3)
        XCTAssertLessThan(f.relativeError, 1e-5)
        XCTAssertEqual(try TruncatedSVD.factorize(w.pointer, rows: 20, columns: 8, spec: .energy(0.999999), layer: "w")?.a.shape[0], 3)
    }

    func testErrors() {
        let w = Tensor.uniform([4, 3], rng: &rng)
        XCTAssertThrowsError(try TruncatedSVD.decompose(w.pointer, rows: 0, columns: 3)) { error in
            XCTAssertEqual(error as? LowRankError, .invalidMatrix(rows: 0, columns: 3, reason: "it is empty"))
        }
        w[7] = .nan
        XCTAssertThrowsError(try TruncatedSVD.decompose(w.pointer, rows: 4, columns: 3)) { error in
            guard case .invalidMatrix(4, 3, let reason)? = error as? LowRankError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("row 2, column 1"), reason)
        }
        w[7] = 1
        XCTAssertThrowsError(try TruncatedSVD.factorize(w.pointer, rows: 4, columns: 3, rank: 4, layer: "proj")) { error in
            XCTAssertEqual(error as? LowRankError, .rankOutOfRange(layer: "proj", rank: 4, inFeatures: 3, outFeatures: 4))
        }
        XCTAssertThrowsError(try TruncatedSVD.factorize(w.pointer, rows: 4, columns: 3, rank: 0)) { error in
            XCTAssertEqual(error as? LowRankError, .rankOutOfRange(layer: "matrix", rank: 0, inFeatures: 3, outFeatures: 4))
        }
        XCTAssertThrowsError(try TruncatedSVD.factorize(w.pointer, rows: 4, columns: 3, spec: .energy(1.5), layer: "proj")) { error in
            XCTAssertEqual(error as? LowRankError, .energyOutOfRange(layer: "proj", value: 1.5))
        }
        XCTAssertTrue(LowRankError.lapackFailure(routine: "sgesdd_", info: -4, rows: 4, columns: 3).description.contains("argument 4"))
    }
}
