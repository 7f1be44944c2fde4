import Foundation
import XCTest
import IO
import Quantization
import Tensor
import TestSupport

/// Decoding the real SmolLM2-135M-Instruct Q4_1 GGUF against the Python gguf package's
/// dequantize (fixture from dev/make_quant_goldens.py). Skips when the model is absent.
final class SmolLM2TensorTests: XCTestCase {
    struct Reference {
        struct Rows { let tensor: String; let type: String; let rows: [Int]; let rowLength: Int; let values: [Float] }
        struct Sums { let tensor: String; let type: String; let count: Int; let sum: Double; let sumSquares: Double }
        let rows: [Rows]
        let sums: [Sums]
    }

    func load() throws -> (GGUFFile, Reference) {
        guard let path = FixturePaths.smolLM2Model else { throw XCTSkip("SmolLM2 GGUF not found (run `make setup` or set FINGPT_MODEL)") }
        guard let url = Bundle.module.url(forResource: "smollm2_tensor_reference", withExtension: "json", subdirectory: "Fixtures") else {
            throw XCTSkip("fixture smollm2_tensor_reference.json missing")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let rows = (json["rows"] as! [[String: Any]]).map { r -> Reference.Rows in
            let raw = Data(base64Encoded: r["output_f32"] as! String)!
            let values = raw.withUnsafeBytes { b in (0..<(b.count / 4)).map { b.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
            return .init(tensor: r["tensor"] as! String, type: r["type"] as! String, rows: r["rows"] as! [Int],
                         rowLength: r["row_length"] as! Int, values: values)
        }
        let sums = (json["sums"] as! [[String: Any]]).map {
            Reference.Sums(tensor: $0["tensor"] as! String, type: $0["type"] as! String, count: $0["count"] as! Int,
                           sum: $0["sum"] as! Double, sumSquares: $0["sum_squares"] as! Double)
        }
        return (try GGUFFile(path: path), Reference(rows: rows, sums: sums))
    }

    func testRowsMatchGGUFPackageBitForBit() throws {
        let (f, reference) = try load()
        XCTAssertEqual(Set(f.tensors.map(\.type)), [.q8_0, .q4_1, .f32], "the types this file uses")
        for r in reference.rows {
            let m = try f.quantizedMatrix(r.tensor)
            XCTAssertEqual(m.type.description, r.type)
            XCTAssertEqual(m.columns, r.rowLength)
            var row = [Float](repeating: 0, count: m.columns)
            for (k, index) in r.rows.enumerated() {
                m.dequantizeRow(index, into: &row)
                let expected = Array(r.values[(k * m.columns)..<((k + 1) * m.columns)])
                XCTAssertEqual(row.map(\.bitPattern), expected.map(\.bitPattern), "\(r.tensor) row \(index)")
            }
        }
    }

    /// Whole tensors of the first and last block: sums of the decoded values agree with numpy's.
    func testWholeTensorSumsMatch() throws {
        let (f, reference) = try load()
        XCTAssertGreaterThan(reference.sums.count, 15)
        for s in reference.sums {
            let info = try f.tensor(named: s.tensor)
            XCTAssertEqual(info.type.description, s.type)
            let values = try f.floats(info)
            XCTAssertEqual(values.count, s.count)
            let sum = Kernels.sumReference(values, count: values.count)
            let squares = Kernels.sumOfSquares(values, count: values.count)
            XCTAssertEqual(Double(sum), s.sum, accuracy: 1e-5 * max(1, s.sumSquares.squareRoot()), s.tensor)
            XCTAssertEqual(squares, s.sumSquares, accuracy: 1e-6 * s.sumSquares, s.tensor)
        }
    }

    /// The fused kernels on the real Q4_1 and Q8_0 matrices against the scalar references.
    func testKernelsOnRealMatrices() throws {
        let (f, _) = try load()
        for name in ["blk.0.ffn_down.weight", "blk.0.attn_k.weight"] {
            let m = try f.quantizedMatrix(name)
            var rng = RandomGenerator(seed: 1)
            let x = (0..<(3 * m.columns)).map { _ in rng.nextNormal() }
            var reference = [Float](repeating: 0, count: m.rows), y = [Float](repeating: 0, count: m.rows)
            m.gemvInt8Reference(x, into: &reference)
            m.gemv(x, into: &y)
            let scale = reference.map(abs).max()!
            assertAllClose(y, reference, rtol: 0, atol: 1e-5 * scale, "\(name) gemv")
            var ref3 = [Float](repeating: 0, count: 3 * m.rows), out3 = [Float](repeating: 0, count: 3 * m.rows)
            m.forwardReference(x, rows: 3, into: &ref3)
            m.with(tuning: QuantizedMatrixTuning(gemvMaxBatch: 0)).forward(x, rows: 3, into: &out3)
            assertAllClose(out3, ref3, rtol: 0, atol: 1e-5 * ref3.map(abs).max()!, "\(name) tiled")
        }
        // Embedding lookup from the Q8_0 token table.
        let embd = try f.quantizedMatrix("token_embd.weight")
        XCTAssertEqual(embd.shape, [49152, 576])
        var row = [Float](repeating: 0, count: 576)
        embd.dequantizeRow(49151, into: &row)
        XCTAssertEqual(row, Array(try embd.type.dequantize(UnsafeRawBufferPointer(start: embd.rowPointer(49151), count: embd.rowBytes),
                                                          count: 576, reference: true)))
    }

    /// Copying every metadata entry and tensor of the real file, in order, through `GGUFWriter`
    /// reproduces the file byte for byte (it was written by llama.cpp's converter, gguf-py).
    func testRewritingReproducesTheFileByteForByte() throws {
        let (f, _) = try load()
        var w = try GGUFWriter(alignment: f.alignment)
        for key in f.metadataKeys { w.setValue(f.metadata[key]!, forKey: key) }
        for t in f.tensors { try w.addTensor(copying: t.name, from: f) }
        let ours = try w.encoded()
        let original = try Data(contentsOf: URL(fileURLWithPath: f.path), options: .alwaysMapped)
        XCTAssertEqual(ours.count, original.count)
        XCTAssertTrue(ours == original, "rewritten file differs from the original")
    }
}
