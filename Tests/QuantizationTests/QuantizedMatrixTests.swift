import Quantization
import Tensor
import TestSupport
import XCTest

/// The fused products of `QuantizedMatrix` against their scalar references and against
/// "dequantize everything, then float matmul".
final class QuantizedMatrixTests: XCTestCase {
    /// A random matrix of `type` [rows, columns]: encoded floats, or random blocks for the K-quants.
    static func matrix(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64,
                       tuning: QuantizedMatrixTuning = .default) throws -> QuantizedMatrix {
        var rng = RandomGenerator(seed: seed)
        if type.canQuantize {
            let w = Tensor.normal([rows, columns], std: 0.05, rng: &rng)
            return try QuantizedMatrix(quantizing: w, as: type, tuning: tuning)
        }
        let bytes = CodecPropertyTests.randomBlocks(type, blocks: rows * columns / type.blockSize, rng: &rng)
        return try bytes.withUnsafeBytes { try QuantizedMatrix(type: type, rows: rows, columns: columns, copying: $0, tuning: tuning) }
    }

    static func random(_ count: Int, seed: UInt64, std: Float = 1) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in rng.nextNormal() * std }
    }

    /// Largest |a - b| relative to the largest |b| (plus a floor), for comparisons of sums.
    static func assertClose(_ a: [Float], _ b: [Float], rtol: Float, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let scale = max(b.map(abs).max() ?? 0, 1e-3)
        assertAllClose(a, b, rtol: 0, atol: rtol * scale, label, file: file, line: line)
    }

    static let types: [GGMLType] = [.q8_0, .q4_0, .q4_1, .f16, .f32, .bf16, .q5_0, .q5_1, .q4_K, .q6_K]

    func testGEMVMatchesReferences() throws {
        for type in Self.types {
            let columns = type.blockSize == 256 ? 512 : 96
            let m = try Self.matrix(type, rows: 37, columns: columns, seed: 1)
            let x = Self.random(columns, seed: 2)
            var reference = [Float](repeating: 0, count: m.rows)
            m.forwardReference(x, rows: 1, into: &reference)
            for isa in KernelISA.available {
                var y = [Float](repeating: .nan, count: m.rows)
                m.gemv(x, into: &y, activations: .float32, isa: isa)
                Self.assertClose(y, reference, rtol: 1e-5, "\(type) float32 \(isa)")
            }
            guard type.hasIntegerKernel else { continue }
            var intReference = [Float](repeating: 0, count: m.rows)
            m.gemvInt8Reference(x, into: &intReference)
            for isa in KernelISA.available {
                var y = [Float](repeating: .nan, count: m.rows)
                m.gemv(x, into: &y, activations: .int8, isa: isa)
                Self.assertClose(y, intReference, rtol: 1e-5, "\(type) int8 \(isa)")
            }
            // Against float activations, the int8 path differs only by the activation rounding:
            // |error| <= sum_j |w_j| * d_block(j) / 2.
            let w = m.dequantized(reference: true)
            let a = Q8Activations.reference(x, count: columns)
            for r in 0..<m.rows {
                var bound = 0.0
                for j in 0..<columns { bound += Double(abs(w[r * columns + j])) * Double(a.scales[j / 32]) / 2 }
                XCTAssertLessThanOrEqual(Double(abs(intReference[r] - reference[r])), bound * 1.001 + 1e-6, "\(type) row \(r)")
            }
        }
    }

    func testForwardMatchesReferenceForAllBatchSizesAndTypes() throws {
        let small = QuantizedMatrixTuning(forwardTileFloats: 16 * 64)   // several (ragged) tiles
        for type in Self.types {
            let columns = type.blockSize == 256 ? 256 : 64
            for tuning in [QuantizedMatrixTuning.default, small, QuantizedMatrixTuning(forwardTileFloats: 16 * 64, parallelTiles: false)] {
                let m = try Self.matrix(type, rows: 53, columns: columns, seed: 3, tuning: tuning).with(gemvActivations: .float32)
                for n in [1, 3, 5, 19] {
                    let x = Self.random(n * columns, seed: UInt64(n))
                    var reference = [Float](repeating: 0, count: n * m.rows)
                    m.forwardReference(x, rows: n, into: &reference)
                    var y = [Float](repeating: .nan, count: n * m.rows)
                    m.forward(x, rows: n, into: &y)
                    Self.assertClose(y, reference, rtol: 2e-5, "\(type) N=\(n) \(tuning)")
                }
            }
        }
    }

    /// The tiled product equals "dequantize the whole matrix, then sgemm" with the same decoder.
    func testTiledForwardEqualsDequantizeThenMatmul() throws {
        let m = try Self.matrix(.q4_1, rows: 200, columns: 160, seed: 9, tuning: QuantizedMatrixTuning(forwardTileFloats: 48 * 160))
        let n = 33
        let x = try Tensor(shape: [n, 160], values: Self.random(n * 160, seed: 4))
        let dense = try BLAS.matmul(x, m.dequantized(), transB: true)
        let y = Tensor(zeros: [n, 200])
        m.forward(x.pointer, rows: n, into: y.pointer)
        assertAllClose(y.array, dense.array, rtol: 1e-5, atol: 1e-5, "tiled vs dense")
    }

    func testBackwardInputAccumulatesLikeReference() throws {
        let narrow = QuantizedMatrixTuning(backwardTileColumns: 32, backwardRowChunk: 7)
        for type in Self.types {
            let columns = type.blockSize == 256 ? 512 : 96
            for tuning in [QuantizedMatrixTuning.default, narrow] {
                let m = try Self.matrix(type, rows: 41, columns: columns, seed: 5, tuning: tuning)
                for n in [1, 6] {
                    let dy = Self.random(n * m.rows, seed: 6)
                    let start = Self.random(n * columns, seed: 7, std: 0.1)
                    var reference = start, dx = start
                    m.backwardInputReference(dy, rows: n, accumulateInto: &reference)
                    m.backwardInput(dy, rows: n, accumulateInto: &dx)
                    Self.assertClose(dx, reference, rtol: 2e-5, "\(type) N=\(n) \(tuning)")
                }
            }
        }
    }

    func testRowAccessAndDequantize() throws {
        let m = try Self.matrix(.q8_0, rows: 9, columns: 64, seed: 8)
        let all = m.dequantized(reference: true)
        var row = [Float](repeating: 0, count: 64)
        m.dequantizeRow(4, into: &row)
        XCTAssertEqual(row, Array(all.array[(4 * 64)..<(5 * 64)]))
        var rows = [Float](repeating: 0, count: 3 * 64)
        m.dequantizeRows(2..<5, into: &rows)
        XCTAssertEqual(rows, Array(all.array[(2 * 64)..<(5 * 64)]))
        XCTAssertEqual(m.storageBytes, 9 * 2 * 34)
        XCTAssertEqual(m.shape, [9, 64])
        XCTAssertEqual(m.dequantized().array, all.array)
    }

    func testInvalidMatricesThrow() throws {
        let bytes = [UInt8](repeating: 0, count: 40)
        try bytes.withUnsafeBytes { raw in
            XCTAssertThrowsError(try QuantizedMatrix(type: .q4_1, rows: 2, columns: 48, copying: raw)) {
                XCTAssertEqual($0 as? QuantizationError, .notBlockMultiple(type: .q4_1, count: 48))
            }
            XCTAssertThrowsError(try QuantizedMatrix(type: .q4_1, rows: 3, columns: 32, copying: raw)) {
                XCTAssertEqual($0 as? QuantizationError, .byteCountMismatch(type: .q4_1, elements: 96, expected: 60, actual: 40))
            }
            XCTAssertNoThrow(try QuantizedMatrix(type: .q4_1, rows: 2, columns: 32, copying: raw))
        }
        XCTAssertThrowsError(try QuantizedMatrix(quantizing: Tensor(zeros: [2, 256]), as: .q6_K)) {
            XCTAssertEqual($0 as? QuantizationError, .cannotQuantize(type: .q6_K))
        }
        XCTAssertThrowsError(try QuantizedMatrix(quantizing: Tensor(zeros: [2, 2, 32]), as: .q8_0))
    }

    /// Unaligned F32 bytes (a GGUF with a small general.alignment) are copied, not read misaligned.
    func testUnalignedFloatDataIsCopied() throws {
        let values: [Float] = (0..<12).map { Float($0) - 5 }
        var bytes = [UInt8](repeating: 0, count: 1)
        values.withUnsafeBytes { bytes += $0 }
        try bytes.withUnsafeBytes { raw in
            let m = try QuantizedMatrix(type: .f32, rows: 3, columns: 4, bytes: UnsafeRawBufferPointer(rebasing: raw[1...]), owner: nil)
            XCTAssertEqual(Int(bitPattern: m.data.baseAddress!) % 4, 0)
            var y = [Float](repeating: 0, count: 3)
            m.forward([1, 0, 0, 1], rows: 1, into: &y)
            XCTAssertEqual(y, [-5 + -2, -1 + 2, 3 + 6])
        }
    }
}
