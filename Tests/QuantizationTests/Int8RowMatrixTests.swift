import Quantization
import Tensor
import TestSupport
import XCTest

/// Int8-row encoding properties, decoding error against the float original, and the fused products
/// against their scalar references.
final class Int8RowMatrixTests: XCTestCase {
    func testEncodingIsRowAbsmaxRoundToNearest() throws {
        let (rows, columns) = (13, 100)
        let w = NF4MatrixTests.weights(rows: rows, columns: columns, seed: 1)
        for j in 0..<columns { w.pointer[3 * columns + j] = 0 }    // an all-zero row
        let m = try Int8RowMatrix(quantizing: w)
        let decoded = m.dequantized(reference: true)
        for r in 0..<rows {
            var absmax: Float = 0
            for j in 0..<columns { absmax = max(absmax, abs(w[r * columns + j])) }
            XCTAssertEqual(m.scales[r], absmax / 127, "row \(r) scale")
            var largest = 0
            for j in 0..<columns {
                let q = Int(m.codes[r * columns + j])
                largest = max(largest, abs(q))
                if absmax > 0 {
                    let exact = w[r * columns + j] / m.scales[r]
                    XCTAssertLessThanOrEqual(abs(exact - Float(q)), 0.5 + 1e-4, "row \(r) col \(j): not rounded to nearest")
                }
                XCTAssertLessThanOrEqual(abs(decoded[r * columns + j] - w[r * columns + j]), m.scales[r] * 0.5001 + 1e-9, "row \(r) col \(j)")
            }
            XCTAssertEqual(largest, absmax > 0 ? 127 : 0, "row \(r) largest code")
        }
        XCTAssertEqual(m.storageBytes, rows * columns + 4 * rows)
    }

    func testExactMultiplesRoundTripAndTiesGoToEven() throws {
        // Row 0: k * 0.5 for k in -127...127 decodes exactly. Row 1: x / scale = 2.5 and -0.5 round to 2 and 0.
        var values = (0..<255).map { Float($0 - 127) * 0.5 }
        values += [127, 2.5, -0.5] + [Float](repeating: 0, count: 252)
        let m = try values.withUnsafeBufferPointer { try Int8RowMatrix(quantizing: $0.baseAddress!, rows: 2, columns: 255) }
        XCTAssertEqual(Array(m.dequantized().array.prefix(255)), Array(values.prefix(255)))
        XCTAssertEqual(Array(m.codes[255..<258]), [127, 2, 0])
    }

    func testBadInputThrows() {
        var bad = [Float](repeating: 1, count: 2 * 10)
        bad[13] = .infinity
        XCTAssertThrowsError(try bad.withUnsafeBufferPointer { try Int8RowMatrix(quantizing: $0.baseAddress!, rows: 2, columns: 10) }) {
            XCTAssertTrue("\($0)".contains("row 1, column 3"), "\($0)")
        }
    }

    func testKernelsDecodeLikeTheReference() throws {
        let m = try Int8RowMatrix(quantizing: NF4MatrixTests.weights(rows: 9, columns: 77, seed: 2))
        let reference = m.dequantized(reference: true).array
        for isa in KernelISA.available {
            var out = [Float](repeating: .nan, count: reference.count)
            out.withUnsafeMutableBufferPointer { m.dequantizeRows(0..<9, into: $0.baseAddress!, isa: isa) }
            assertSameFloats(out, reference, "\(isa)")
        }
    }

    func testProductsMatchReferences() throws {
        // 200 columns: column tiles of whole 32-column granules plus a ragged last tile.
        let base = try Int8RowMatrix(quantizing: NF4MatrixTests.weights(rows: 41, columns: 200, seed: 3))
        let tunings = [QuantizedMatrixTuning.default, QuantizedMatrixTuning(forwardTileFloats: 16 * 64, backwardTileColumns: 32, backwardRowChunk: 6),
                       QuantizedMatrixTuning(forwardTileFloats: 16 * 64, parallelTiles: false)]
        for tuning in tunings {
            let m = base.with(tuning: tuning)
            for n in [1, 4, 9, 17, 66] {
                let x = QuantizedMatrixTests.random(n * 200, seed: UInt64(n))
                var reference = [Float](repeating: 0, count: n * 41)
                m.forwardReference(x, rows: n, into: &reference)
                let dy = QuantizedMatrixTests.random(n * 41, seed: UInt64(30 + n))
                let start = QuantizedMatrixTests.random(n * 200, seed: UInt64(40 + n))
                var dxReference = start
                m.backwardInputReference(dy, rows: n, accumulateInto: &dxReference)
                for isa in KernelISA.available {
                    var y = [Float](repeating: .nan, count: n * 41)
                    m.forward(x, rows: n, into: &y, isa: isa)
                    QuantizedMatrixTests.assertClose(y, reference, rtol: 2e-5, "forward N=\(n) \(isa) \(tuning)")
                    var dx = start
                    m.backwardInput(dy, rows: n, accumulateInto: &dx, isa: isa)
                    QuantizedMatrixTests.assertClose(dx, dxReference, rtol: 2e-5, "backward N=\(n) \(isa) \(tuning)")
                }
            }
        }
    }
}
