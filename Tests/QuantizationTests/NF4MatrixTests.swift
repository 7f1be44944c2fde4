import Quantization
import Tensor
import TestSupport
import XCTest

/// NF4 encoding properties, decoding error against the float original, and the fused products
/// against their scalar references.
final class NF4MatrixTests: XCTestCase {
    static func weights(rows: Int, columns: Int, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let w = Tensor.normal([rows, columns], std: 0.05, rng: &rng)
        for i in stride(from: 7, to: w.count, by: 997) { w.pointer[i] *= 8 }   // a few outliers
        return w
    }

    static func maxHalfGap(_ table: [Float]) -> Float {
        (0..<(table.count - 1)).map { (table[$0 + 1] - table[$0]) / 2 }.max() ?? 0
    }

    func testCodesAreNearestLevelsAndDecodingErrorIsBounded() throws {
        let (rows, columns) = (70, 256)    // 280 blocks: two scale groups
        let w = Self.weights(rows: rows, columns: columns, seed: 1)
        let m = try NF4Matrix(quantizing: w)
        let decoded = m.dequantized(reference: true)
        let levelGap = Self.maxHalfGap(NF4Codebook.levels), mapGap = Self.maxHalfGap(NF4Codebook.dynamicMap)
        for b in 0..<m.blockCount {
            let r = b / m.blocksPerRow, c0 = (b % m.blocksPerRow) * 64
            var absmax: Float = 0
            for j in 0..<64 { absmax = max(absmax, abs(w[r * columns + c0 + j])) }
            let scale = m.blockScale(b)
            // The decoded block scale is within half a map step (relative to the group scale).
            XCTAssertLessThanOrEqual(abs(scale - absmax), m.groupScales[b / 256] * mapGap * 1.0001 + 1e-7, "block \(b) scale")
            for j in 0..<64 {
                let x = w[r * columns + c0 + j] / absmax
                let code = m.code(row: r, column: c0 + j)
                let best = NF4Codebook.levels.map { abs(x - $0) }.min()!
                XCTAssertLessThanOrEqual(abs(x - NF4Codebook.levels[code]), best + 1e-6, "block \(b) value \(j): not the nearest level")
                let error = abs(decoded[r * columns + c0 + j] - w[r * columns + c0 + j])
                XCTAssertLessThanOrEqual(error, absmax * levelGap + abs(scale - absmax) + 1e-6, "block \(b) value \(j)")
            }
        }
        // Over the whole matrix the error is far below the worst case.
        var se = 0.0, sw = 0.0
        for i in 0..<w.count { se += Double((decoded[i] - w[i]) * (decoded[i] - w[i])); sw += Double(w[i] * w[i]) }
        XCTAssertLessThan((se / sw).squareRoot(), 0.15, "relative RMS error of NF4 on Gaussian weights")
    }

    func testSpecialBlocks() throws {
        // A zero row, a row of exact levels times 0.5 and a constant row decode exactly.
        var values = [Float](repeating: 0, count: 3 * 64)
        for j in 0..<64 { values[64 + j] = NF4Codebook.levels[j % 16] * 0.5 }
        for j in 0..<64 { values[128 + j] = -0.25 }
        let m = try values.withUnsafeBufferPointer { try NF4Matrix(quantizing: $0.baseAddress!, rows: 3, columns: 64) }
        let d = m.dequantized()
        for j in 0..<64 { XCTAssertEqual(d[j], 0, "zero row") }
        // Block scales 0, 0.5, 0.25 are reproduced within the 8-bit scale quantization.
        for j in 0..<64 {
            XCTAssertEqual(m.code(row: 1, column: j), j % 16)
            XCTAssertEqual(d[64 + j], NF4Codebook.levels[j % 16] * m.blockScale(1))
            XCTAssertEqual(m.code(row: 2, column: j), 0)
        }
        XCTAssertEqual(m.blockScale(1), 0.5, accuracy: 0.5 * 0.01)
    }

    func testValuesOnAMidpointTakeTheLowerLevel() throws {
        // absmax 1, so the scaled values are the values themselves: the 15 float32 midpoints
        // (a + b) / 2 of neighbouring levels, then the levels, then 1.
        var values = [Float](repeating: 1, count: 64)
        for i in 0..<15 { values[i] = (NF4Codebook.levels[i] + NF4Codebook.levels[i + 1]) / 2 }
        for i in 0..<16 { values[15 + i] = NF4Codebook.levels[i] }
        let m = try values.withUnsafeBufferPointer { try NF4Matrix(quantizing: $0.baseAddress!, rows: 1, columns: 64) }
        for i in 0..<15 { XCTAssertEqual(m.code(row: 0, column: i), i, "midpoint \(i)") }
        for i in 0..<16 { XCTAssertEqual(m.code(row: 0, column: 15 + i), i, "level \(i)") }
        XCTAssertEqual(m.code(row: 0, column: 63), 15)
    }

    func testBadInputThrows() {
        let w = [Float](repeating: 1, count: 2 * 100)
        XCTAssertThrowsError(try w.withUnsafeBufferPointer { try NF4Matrix(quantizing: $0.baseAddress!, rows: 2, columns: 100) }) {
            XCTAssertTrue("\($0)".contains("multiple of 64"), "\($0)")
        }
        var bad = [Float](repeating: 1, count: 2 * 64)
        bad[64 + 5] = .nan
        XCTAssertThrowsError(try bad.withUnsafeBufferPointer { try NF4Matrix(quantizing: $0.baseAddress!, rows: 2, columns: 64) }) {
            XCTAssertTrue("\($0)".contains("row 1, column 5"), "\($0)")
        }
        XCTAssertThrowsError(try NF4Matrix(quantizing: Tensor(zeros: [64])))
    }

    func testStorageIsAbout4Point13BitsPerWeight() throws {
        let m = try NF4Matrix(quantizing: Tensor(zeros: [576, 576]))
        // 4 bits + 8 bits per 64 + 32 bits per 64 * 256, plus the offset.
        XCTAssertEqual(m.storageBytes, 576 * 576 / 2 + 576 * 9 + 4 * 21 + 4)
        XCTAssertEqual(m.bitsPerWeight, 4.127, accuracy: 0.001)
    }

    func testKernelsDecodeLikeTheReference() throws {
        let m = try NF4Matrix(quantizing: Self.weights(rows: 9, columns: 320, seed: 2))
        let reference = m.dequantized(reference: true).array
        for isa in KernelISA.available {
            var out = [Float](repeating: .nan, count: reference.count)
            out.withUnsafeMutableBufferPointer { m.dequantizeRows(0..<9, into: $0.baseAddress!, isa: isa) }
            assertSameFloats(out, reference, "\(isa)")
        }
    }

    func testGEMVMatchesReference() throws {
        let m = try NF4Matrix(quantizing: Self.weights(rows: 37, columns: 192, seed: 3))
        let x = QuantizedMatrixTests.random(192, seed: 4)
        var reference = [Float](repeating: 0, count: 37)
        m.forwardReference(x, rows: 1, into: &reference)
        for isa in KernelISA.available {
            var y = [Float](repeating: .nan, count: 37)
            m.gemv(x, into: &y, isa: isa)
            QuantizedMatrixTests.assertClose(y, reference, rtol: 1e-5, "gemv \(isa)")
        }
    }

    func testForwardMatchesReferenceForAllBatchSizesAndTilings() throws {
        let base = try NF4Matrix(quantizing: Self.weights(rows: 53, columns: 192, seed: 5))
        let tunings = [QuantizedMatrixTuning.default, QuantizedMatrixTuning(forwardTileFloats: 16 * 64),
                       QuantizedMatrixTuning(forwardTileFloats: 16 * 64, parallelTiles: false)]
        for tuning in tunings {
            let m = base.with(tuning: tuning)
            for n in [1, 3, 9, 19] {
                let x = QuantizedMatrixTests.random(n * 192, seed: UInt64(n))
                var reference = [Float](repeating: 0, count: n * 53)
                m.forwardReference(x, rows: n, into: &reference)
                for isa in KernelISA.available {
                    var y = [Float](repeating: .nan, count: n * 53)
                    m.forward(x, rows: n, into: &y, isa: isa)
                    QuantizedMatrixTests.assertClose(y, reference, rtol: 2e-5, "N=\(n) \(isa) \(tuning)")
                }
            }
        }
    }

    func testBackwardInputMatchesReference() throws {
        let base = try NF4Matrix(quantizing: Self.weights(rows: 45, columns: 320, seed: 6))
        for tuning in [QuantizedMatrixTuning.default, QuantizedMatrixTuning(backwardTileColumns: 64, backwardRowChunk: 7)] {
            let m = base.with(tuning: tuning)
            for n in [1, 5, 19, 70] {
                let dy = QuantizedMatrixTests.random(n * 45, seed: UInt64(10 + n))
                let start = QuantizedMatrixTests.random(n * 320, seed: UInt64(20 + n))
                var reference = start
                m.backwardInputReference(dy, rows: n, accumulateInto: &reference)
                for isa in KernelISA.available {
                    var dx = start
                    m.backwardInput(dy, rows: n, accumulateInto: &dx, isa: isa)
                    QuantizedMatrixTests.assertClose(dx, reference, rtol: 2e-5, "N=\(n) \(isa) \(tuning)")
                }
            }
        }
    }

    func testReferenceProductsMatchDecodedFloatMatmul() throws {
        // The references themselves against BLAS on the decoded matrix (an independent path).
        let m = try NF4Matrix(quantizing: Self.weights(rows: 21, columns: 128, seed: 7))
        let w = m.dequantized(reference: true)
        let x = QuantizedMatrixTests.random(4 * 128, seed: 8)
        var y = [Float](repeating: 0, count: 4 * 21), expected = y
        m.forwardReference(x, rows: 4, into: &y)
        BLAS.gemmReference(transB: true, m: 4, n: 21, k: 128, a: x, b: w.pointer, c: &expected)
        QuantizedMatrixTests.assertClose(y, expected, rtol: 1e-6, "forward reference")
        let dy = QuantizedMatrixTests.random(4 * 21, seed: 9)
        var dx = [Float](repeating: 1, count: 4 * 128), expectedDx = dx
        m.backwardInputReference(dy, rows: 4, accumulateInto: &dx)
        BLAS.gemmReference(m: 4, n: 128, k: 21, a: dy, b: w.pointer, beta: 1, c: &expectedDx)
        QuantizedMatrixTests.assertClose(dx, expectedDx, rtol: 1e-6, "backward reference")
    }
}
