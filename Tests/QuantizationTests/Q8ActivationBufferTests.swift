import Quantization
import Tensor
import TestSupport
import XCTest

/// The reusable Q8 activation buffer and the row-range matrix-vector product of the generation
/// fast path, against the plain Swift references.
final class Q8ActivationBufferTests: XCTestCase {
    func testQuantizeMatchesReferenceWholeAndByBlockRanges() {
        let x = QuantizedMatrixTests.random(1536, seed: 11, std: 2)
        let reference = Q8Activations.reference(x, count: x.count)
        for isa in KernelISA.available {
            let whole = Q8ActivationBuffer(count: x.count)
            whole.quantize(x, isa: isa)
            assertSame(whole.snapshot, reference, "whole \(isa)")
            // in three disjoint block ranges (as threads do), last range first
            let parts = Q8ActivationBuffer(count: x.count)
            for r in [30..<48, 0..<17, 17..<30, 5..<5] { parts.quantize(x, blocks: r, isa: isa) }
            assertSame(parts.snapshot, reference, "by ranges \(isa)")
            // re-quantizing new values replaces the old ones
            let y = QuantizedMatrixTests.random(1536, seed: 12)
            whole.quantize(y, isa: isa)
            assertSame(whole.snapshot, Q8Activations.reference(y, count: y.count), "reused \(isa)")
        }
    }

    func testRowRangeGEMVMatchesInt8Reference() throws {
        // 1536 columns: rows of 960-1632 bytes, so the 4 KiB prefetch runs past the ends of the ranges
        for type in [GGMLType.q4_0, .q4_1, .q8_0] {
            let m = try QuantizedMatrixTests.matrix(type, rows: 203, columns: 1536, seed: 5)
            let x = QuantizedMatrixTests.random(1536, seed: 6)
            var reference = [Float](repeating: 0, count: m.rows)
            m.gemvInt8Reference(x, into: &reference)
            for isa in KernelISA.available {
                let q = Q8ActivationBuffer(count: 1536)
                q.quantize(x, isa: isa)
                var y = [Float](repeating: .nan, count: m.rows)
                y.withUnsafeMutableBufferPointer { out in
                    for r in [0..<0, 150..<203, 3..<150, 0..<3] { m.gemv(quantized: q, rows: r, into: out.baseAddress!, isa: isa) }
                }
                QuantizedMatrixTests.assertClose(y, reference, rtol: 1e-5, "\(type) \(isa) by row ranges")
                var whole = [Float](repeating: .nan, count: m.rows)
                m.gemv(x, into: &whole, activations: .int8, isa: isa)
                QuantizedMatrixTests.assertClose(y, whole, rtol: 1e-6, "\(type) \(isa) ranges vs threaded gemv")
            }
        }
    }

    private func assertSame(_ a: Q8Activations, _ b: Q8Activations, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.values, b.values, "\(label): values", file: file, line: line)
        XCTAssertEqual(a.scales, b.scales, "\(label): scales", file: file, line: line)
        XCTAssertEqual(a.sums, b.sums, "\(label): sums", file: file, line: line)
    }
}
