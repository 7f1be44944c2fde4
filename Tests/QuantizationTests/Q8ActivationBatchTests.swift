import Quantization
import Tensor
import TestSupport
import XCTest

/// The several-vector product of batched generation (`QuantizedMatrix.gemm(quantized:...)`) against
/// the one-vector product it must reproduce bit for bit.
final class Q8ActivationBatchTests: XCTestCase {
    func testBatchQuantizesEachVectorLikeTheOneVectorBuffer() {
        let batch = Q8ActivationBatch(count: 96, vectors: 2)
        batch.reserve(3)
        XCTAssertEqual(batch.capacity, 3)
        for v in 0..<3 {
            let x = QuantizedMatrixTests.random(96, seed: 40 + UInt64(v), std: 3)
            for isa in KernelISA.available {
                batch.quantize(x, into: v, isa: isa)
                let want = Q8Activations.reference(x, count: 96)
                let got = batch.snapshot(v)
                XCTAssertEqual(got.values, want.values, "vector \(v) \(isa)")
                XCTAssertEqual(got.scales, want.scales, "vector \(v) \(isa)")
                XCTAssertEqual(got.sums, want.sums, "vector \(v) \(isa)")
            }
        }
    }

    func testBatchedGEMMEqualsOneVectorGEMVBitForBit() throws {
        // 1003 rows (several row chunks of the batched kernel) in ranges that end in tails of one to
        // three rows past their groups of four; 13 vectors: a group of eight, one of four, one alone
        for type in [GGMLType.q4_0, .q4_1, .q8_0] {
            let m = try QuantizedMatrixTests.matrix(type, rows: 1003, columns: 320, seed: 9)
            for isa in KernelISA.available {
                for vectors in [1, 5, 13] {
                    let batch = Q8ActivationBatch(count: 320, vectors: vectors + 2)  // capacity beyond the vectors used
                    let one = Q8ActivationBuffer(count: 320)
                    let ldy = 1011
                    var got = [Float](repeating: .nan, count: vectors * ldy)
                    var want = got
                    let inputs = (0..<vectors).map { QuantizedMatrixTests.random(320, seed: 100 + UInt64($0), std: 2) }
                    for (v, x) in inputs.enumerated() { batch.quantize(x, into: v, isa: isa) }
                    for range in [0..<0, 0..<100, 100..<201, 201..<203, 203..<1003] {
                        got.withUnsafeMutableBufferPointer { m.gemm(quantized: batch, vectors: vectors, rows: range, into: $0.baseAddress!, ldy: ldy, isa: isa) }
                        for (v, x) in inputs.enumerated() {
                            one.quantize(x, isa: isa)
                            want.withUnsafeMutableBufferPointer { m.gemv(quantized: one, rows: range, into: $0.baseAddress! + v * ldy, isa: isa) }
                        }
                    }
                    for v in 0..<vectors {
                        let g = Array(got[(v * ldy)..<(v * ldy + 1003)]), w = Array(want[(v * ldy)..<(v * ldy + 1003)])
                        XCTAssertEqual(g.map(\.bitPattern), w.map(\.bitPattern), "\(type) \(isa) \(vectors) vectors, vector \(v)")
                    }
                    XCTAssertTrue(got[1003..<1011].allSatisfy(\.isNaN), "the stride's padding is not written")
                }
            }
        }
    }
}
