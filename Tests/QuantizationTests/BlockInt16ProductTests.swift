import CQuantKernels
@testable import Quantization
import Tensor
import TestSupport
import XCTest

/// The block-scaled 16-bit integer products (`FrozenProductArithmetic.blockInt16`): the AVX2 kernels
/// against the scalar reference (bit for bit), the quantized operands against their float values,
/// the product against a float64 product of the floats within the bound the rounding allows, and the
/// frozen matrices' products in this arithmetic against their float32 products.
final class BlockInt16ProductTests: XCTestCase {
    let group = Int(FQ_I16_GROUP), mr = Int(FQ_I16_MR), nr = Int(FQ_I16_NR)

    /// Values whose magnitude varies by row and column block, with a few outliers and exact zeros.
    func values(rows: Int, columns: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        var v = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            let rowScale = Float(0.01 + Double(r % 7) * 0.3)
            for c in 0..<columns {
                var x = (rng.nextFloat() * 2 - 1) * rowScale * (c / 64 % 2 == 0 ? 1 : 0.05)
                if (r * columns + c) % 311 == 5 { x *= 40 }
                if (r * columns + c) % 97 == 3 { x = 0 }
                v[r * columns + c] = x
            }
        }
        return v
    }

    /// (codes, scales) of rows quantized with `isa` (rows padded to whole tiles).
    func quantizeRows(_ x: [Float], rows: Int, k: Int, isa: KernelISA) -> ([Int16], [Float]) {
        let padded = (rows + mr - 1) / mr * mr
        var q = [Int16](repeating: 0, count: padded * k), s = [Float](repeating: 0, count: padded * k / group)
        fq_i16_quantize_rows(x, Int64(k), Int64(k), 0, Int64(rows), &q, &s, isa.code)
        return (q, s)
    }

    func packRows(_ w: [Float], n: Int, k: Int, isa: KernelISA) -> ([Int16], [Float]) {
        let panels = (n + nr - 1) / nr
        var q = [Int16](repeating: 0, count: panels * nr * k), s = [Float](repeating: 0, count: panels * nr * k / group)
        fq_i16_pack_rows(w, Int64(k), Int64(n), Int64(k), 0, &q, &s, isa.code)
        return (q, s)
    }

    func packColumns(_ wt: [Float], k: Int, n: Int, isa: KernelISA) -> ([Int16], [Float]) {
        let panels = (n + nr - 1) / nr
        var q = [Int16](repeating: 0, count: panels * nr * k), s = [Float](repeating: 0, count: panels * nr * k / group)
        fq_i16_pack_columns(wt, Int64(n), Int64(k), Int64(n), 0, &q, &s, isa.code)
        return (q, s)
    }

    /// Code and scale of element (column j, position t) of a packed B, read from the documented layout.
    func packed(_ p: ([Int16], [Float]), column j: Int, position t: Int, k: Int) -> (Int16, Float) {
        let panel = j / nr, c = j % nr, groups = k / group
        let code = p.0[panel * nr * k + (t / 2) * 2 * nr + c * 2 + (t & 1)]
        return (code, p.1[(panel * groups + t / group) * nr + c])
    }

    func testQuantizedRowsAreWithinHalfAStepAndUseTheFullRange() {
        let (rows, k) = (11, 192)
        let x = values(rows: rows, columns: k, seed: 1)
        let scalar = quantizeRows(x, rows: rows, k: k, isa: .scalar)
        for isa in KernelISA.available where isa != .scalar {
            let v = quantizeRows(x, rows: rows, k: k, isa: isa)
            XCTAssertEqual(v.0, scalar.0, "\(isa) codes")
            XCTAssertEqual(v.1, scalar.1, "\(isa) scales")
        }
        let (q, s) = scalar
        for r in 0..<rows {
            for g in 0..<(k / group) {
                let scale = s[r * (k / group) + g]
                var top: Int16 = 0
                for t in (g * group)..<((g + 1) * group) {
                    let i = r * k + t
                    XCTAssertLessThanOrEqual(abs(Float(q[i]) * scale - x[i]), 0.5 * scale * 1.001 + abs(x[i]) * 1e-6, "row \(r) column \(t)")
                    top = max(top, abs(q[i]))
                }
                XCTAssertEqual(top, Int16(FQ_I16_A_MAX), "row \(r) group \(g): the largest magnitude takes the largest code")
            }
        }
        XCTAssertTrue(q[(rows * k)...].allSatisfy { $0 == 0 }, "padding rows stay zero")
    }

    func testPackedWeightsFollowTheLayoutAndBothPackingsAgree() {
        let (n, k) = (37, 128)   // a partial last panel
        let w = values(rows: n, columns: k, seed: 2)
        var wt = [Float](repeating: 0, count: k * n)
        for j in 0..<n { for t in 0..<k { wt[t * n + j] = w[j * k + t] } }
        let rowsScalar = packRows(w, n: n, k: k, isa: .scalar)
        for isa in KernelISA.available {
            let byRows = packRows(w, n: n, k: k, isa: isa), byColumns = packColumns(wt, k: k, n: n, isa: isa)
            XCTAssertEqual(byRows.0, rowsScalar.0, "\(isa) row packing codes")
            XCTAssertEqual(byRows.1, rowsScalar.1, "\(isa) row packing scales")
            XCTAssertEqual(byColumns.0, rowsScalar.0, "\(isa): packing W^T by columns gives W's row packing")
            XCTAssertEqual(byColumns.1, rowsScalar.1, "\(isa): column packing scales")
        }
        for j in 0..<nr * ((n + nr - 1) / nr) {
            for t in 0..<k {
                let (code, scale) = packed(rowsScalar, column: j, position: t, k: k)
                if j >= n { XCTAssertEqual(code, 0); XCTAssertEqual(scale, 0); continue }
                XCTAssertLessThanOrEqual(abs(code), Int16(FQ_I16_B_MAX))
                XCTAssertLessThanOrEqual(abs(Float(code) * scale - w[j * k + t]), 0.5 * scale * 1.001 + abs(w[j * k + t]) * 1e-6, "column \(j) position \(t)")
            }
        }
    }

    /// c = A B^T from the kernels against the float64 product of the original floats: the difference is
    /// at most the rounding of both operands, sum over k of (|da| |b| + |a| |db| + |da| |db|) with
    /// |da| <= sa / 2 and |db| <= sb / 2, plus float32 accumulation.
    func testProductIsWithinTheRoundingBoundOfTheExactProduct() {
        let (m, n, k) = (13, 37, 192)
        let a = values(rows: m, columns: k, seed: 3), b = values(rows: n, columns: k, seed: 4)
        let (qa, sa) = quantizeRows(a, rows: m, k: k, isa: .scalar)
        let (qb, sb) = packRows(b, n: n, k: k, isa: .scalar)
        var start = [Float](repeating: 0, count: m * n)
        var rng = RandomGenerator(seed: 5)
        for i in start.indices { start[i] = rng.nextFloat() - 0.5 }
        var results: [KernelISA: [[Float]]] = [:]
        for isa in KernelISA.available {
            var outs: [[Float]] = []
            for beta: Float in [0, 1] {
                var c = beta == 0 ? [Float](repeating: .nan, count: m * n) : start   // beta 0 never reads c
                fq_i16_gemm(qa, sa, 0, Int64(m), qb, sb, Int64(n), Int64(k), &c, Int64(n), beta, isa.code)
                outs.append(c)
            }
            results[isa] = outs
        }
        for isa in KernelISA.available { XCTAssertEqual(results[isa]!, results[.scalar]!, "\(isa) against the scalar kernel") }
        let groups = k / group
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, bound = 0.0, magnitude = 0.0
                for t in 0..<k {
                    let x = Double(a[i * k + t]), y = Double(b[j * k + t])
                    let da = Double(sa[i * groups + t / group]) / 2, db = Double(packed((qb, sb), column: j, position: t, k: k).1) / 2
                    exact += x * y
                    bound += da * abs(y) + abs(x) * db + da * db
                    magnitude += abs(x * y) + da * abs(y) + abs(x) * db
                }
                bound += magnitude * 1e-6
                let c0 = Double(results[.scalar]![0][i * n + j]), c1 = Double(results[.scalar]![1][i * n + j])
                XCTAssertLessThanOrEqual(abs(c0 - exact), bound, "c[\(i), \(j)]")
                XCTAssertEqual(c1, Double(start[i * n + j]) + c0, accuracy: 1e-6 * (abs(c1) + 1), "beta 1 adds to c[\(i), \(j)]")
            }
        }
    }

    func testNonFiniteGroupsMakeTheirOutputsNaN() {
        let (m, n, k) = (7, 16, 128)
        var a = values(rows: m, columns: k, seed: 6)
        a[2 * k + 70] = .nan      // row 2, second group
        a[5 * k + 3] = .infinity  // row 5, first group
        var b = values(rows: n, columns: k, seed: 7)
        b[3 * k + 100] = -.infinity   // weight column 3, second group
        var bt = [Float](repeating: 0, count: k * n)
        for j in 0..<n { for t in 0..<k { bt[t * n + j] = b[j * k + t] } }
        // the codes of non-finite groups are zero on every path, their scales NaN
        let bits: (([Int16], [Float])) -> ([Int16], [UInt32]) = { p in (p.0, p.1.map(\.bitPattern)) }
        let a0 = bits(quantizeRows(a, rows: m, k: k, isa: .scalar)), b0 = bits(packRows(b, n: n, k: k, isa: .scalar))
        for isa in KernelISA.available {
            let ai = bits(quantizeRows(a, rows: m, k: k, isa: isa))
            XCTAssertEqual(ai.0, a0.0, "\(isa) activation codes"); XCTAssertEqual(ai.1, a0.1, "\(isa) activation scales")
            for packed in [bits(packRows(b, n: n, k: k, isa: isa)), bits(packColumns(bt, k: k, n: n, isa: isa))] {
                XCTAssertEqual(packed.0, b0.0, "\(isa) weight codes"); XCTAssertEqual(packed.1, b0.1, "\(isa) weight scales")
            }
        }
        XCTAssertTrue(packed((b0.0, b0.1.map(Float.init(bitPattern:))), column: 3, position: 100, k: k).1.isNaN)
        for isa in KernelISA.available {
            let (qa, sa) = quantizeRows(a, rows: m, k: k, isa: isa)
            let (qb, sb) = packRows(b, n: n, k: k, isa: isa)
            var c = [Float](repeating: 0, count: m * n)
            fq_i16_gemm(qa, sa, 0, Int64(m), qb, sb, Int64(n), Int64(k), &c, Int64(n), 0, isa.code)
            for i in 0..<m {
                for j in 0..<n {
                    if i == 2 || i == 5 || j == 3 {
                        XCTAssertTrue(c[i * n + j].isNaN, "\(isa) [\(i), \(j)]")
                    } else {
                        XCTAssertTrue(c[i * n + j].isFinite, "\(isa) [\(i), \(j)]")
                    }
                }
            }
        }
    }

    /// Forward and input-gradient products of NF4, int8-row and Q4_1 matrices in int16 arithmetic
    /// against the same matrices' float32 products.
    func testFrozenMatrixProductsAgreeWithTheirFloat32Products() throws {
        let (rows, columns, n) = (80, 192, 23)
        var rng = RandomGenerator(seed: 8)
        let w = Tensor.normal([rows, columns], std: 0.05, rng: &rng)
        let x = Tensor.normal([n, columns], std: 1, rng: &rng), dy = Tensor.normal([n, rows], std: 1, rng: &rng)
        let int16 = QuantizedMatrixTuning(arithmetic: .blockInt16)
        let nf4 = try NF4Matrix(quantizing: w), int8 = try Int8RowMatrix(quantizing: w), q41 = try QuantizedMatrix(quantizing: w, as: .q4_1)
        let cases: [(String, TileDecodedMatrix, TileDecodedMatrix, Tensor)] = [
            ("nf4", nf4, nf4.with(tuning: int16), nf4.dequantized()),
            ("int8", int8, int8.with(tuning: int16), int8.dequantized()),
            ("q4_1", q41, q41.with(gemvActivations: nil, tuning: int16), q41.dequantized()),
        ]
        for (name, float32, integer, decoded) in cases {
            for isa in KernelISA.available {
                var yf = [Float](repeating: 0, count: n * rows), yi = yf
                float32.forwardTiled(x.pointer, rows: n, into: &yf, isa: isa)
                integer.forwardTiled(x.pointer, rows: n, into: &yi, isa: isa)
                for i in 0..<n {
                    for r in 0..<rows {
                        var magnitude: Float = 0
                        for c in 0..<columns { magnitude += abs(x[i * columns + c] * decoded[r * columns + c]) }
                        XCTAssertEqual(yi[i * rows + r], yf[i * rows + r], accuracy: 1e-3 * magnitude + 1e-6, "\(name) \(isa) forward [\(i), \(r)]")
                    }
                }
                var start = [Float](repeating: 0, count: n * columns)
                for j in start.indices { start[j] = Float(j % 5) - 2 }
                var gf = start, gi = start
                float32.backwardProduct(dy.pointer, rows: n, accumulateInto: &gf, isa: isa)
                integer.backwardProduct(dy.pointer, rows: n, accumulateInto: &gi, isa: isa)
                for i in 0..<n {
                    for c in 0..<columns {
                        var magnitude: Float = 0
                        for r in 0..<rows { magnitude += abs(dy[i * rows + r] * decoded[r * columns + c]) }
                        XCTAssertEqual(gi[i * columns + c], gf[i * columns + c], accuracy: 1e-3 * magnitude + 1e-5, "\(name) \(isa) backward [\(i), \(c)]")
                    }
                }
            }
        }
    }

    func testContractionsThatAreNotWholeGroupsUseFloat32() throws {
        var rng = RandomGenerator(seed: 9)
        let w = Tensor.normal([24, 40], std: 0.1, rng: &rng), x = Tensor.normal([12, 40], std: 1, rng: &rng)
        let m = try Int8RowMatrix(quantizing: w)
        let int16 = m.with(tuning: QuantizedMatrixTuning(arithmetic: .blockInt16))
        XCTAssertFalse(int16.usesBlockInt16(contraction: 40))
        XCTAssertFalse(int16.usesBlockInt16(contraction: 24), "the input gradient contracts over 24 rows")
        XCTAssertTrue(int16.usesBlockInt16(contraction: 128))
        XCTAssertFalse(m.usesBlockInt16(contraction: 128), "float32 arithmetic")
        var a = [Float](repeating: 0, count: 12 * 24), b = a
        m.forward(x.pointer, rows: 12, into: &a)
        int16.forward(x.pointer, rows: 12, into: &b)
        XCTAssertEqual(a, b)
    }

    func testArithmeticNamesParse() {
        XCTAssertEqual(FrozenProductArithmetic(cliName: "INT16"), .blockInt16)
        XCTAssertEqual(FrozenProductArithmetic(cliName: "f32"), .float32)
        XCTAssertEqual(FrozenProductArithmetic(cliName: "float32"), .float32)
        XCTAssertNil(FrozenProductArithmetic(cliName: "int8"))
        XCTAssertEqual(FrozenProductArithmetic.choices, ["f32", "int16"])
    }
}
