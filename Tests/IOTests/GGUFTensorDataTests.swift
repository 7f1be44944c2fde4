import Foundation
import XCTest
import IO
import Quantization
import Tensor
import TestSupport

/// Decoding GGUF tensor data: floats, PyTorch-order tensors, in-place quantized matrices.
final class GGUFTensorDataTests: XCTestCase {
    /// A file whose tensor data comes from known floats, encoded with our reference quantizers (which
    /// the quantization goldens tie to llama.cpp).
    static func knownFile() throws -> (Data, [Float]) {
        let values = (0..<128).map { Float(($0 * 29) % 67 - 33) / 8 }
        var b = GGUFBuilder()
        b.metadata = [("general.architecture", .string("llama"))]
        func le(_ v: [Float]) -> [UInt8] { v.flatMap { GGUFBuilder.le($0.bitPattern) } }
        b.tensors = [
            .init(name: "w.f32", dims: [32, 4], type: 0, data: le(values)),
            .init(name: "w.q8_0", dims: [64, 2], type: 8, data: try GGMLType.q8_0.quantize(values)),
            .init(name: "w.q4_1", dims: [32, 2, 2], type: 3, data: try GGMLType.q4_1.quantize(values)),
            .init(name: "w.f16", dims: [128], type: 1, data: try GGMLType.f16.quantize(values)),
        ]
        return (b.build(), values)
    }

    func testFloatsAndTensorsInPyTorchOrder() throws {
        let (data, values) = try Self.knownFile()
        let f = try GGUFFile(data: data, name: "known.gguf")
        XCTAssertEqual(try f.floats("w.f32"), values)
        let t = try f.tensor("w.f32")
        XCTAssertEqual(t.shape, [4, 32])           // GGUF [32, 4] is PyTorch [4, 32]
        XCTAssertEqual(t.array, values)
        for name in ["w.q8_0", "w.q4_1", "w.f16"] {
            let info = try f.tensor(named: name)
            let expected = try info.type.dequantize(try info.type.quantize(values), count: values.count, reference: true)
            XCTAssertEqual(try f.floats(name), expected, name)
            XCTAssertEqual(try f.tensor(name).shape, info.dimensions.reversed())
            // Quantization error is within half a step of these values (steps <= 8.25 / 7.5).
            for (a, b) in zip(try f.floats(name), values) { XCTAssertEqual(a, b, accuracy: 0.6, name) }
        }
        XCTAssertEqual(try f.tensor("w.q4_1").shape, [2, 2, 32])
        XCTAssertThrowsError(try f.floats("missing")) { XCTAssertEqual($0 as? IOError, .missingTensor(file: "known.gguf", name: "missing")) }
    }

    func testQuantizedMatrixReadsMappedBytesInPlace() throws {
        let (data, values) = try Self.knownFile()
        let f = try GGUFFile(data: data, name: "known.gguf")
        let m = try f.quantizedMatrix("w.q8_0")
        XCTAssertEqual(m.type, .q8_0)
        XCTAssertEqual(m.shape, [2, 64])
        XCTAssertEqual(m.data.baseAddress, f.tensorData(try f.tensor(named: "w.q8_0")).baseAddress)   // no copy
        var y = [Float](repeating: 0, count: 2)
        let x = [Float](repeating: 1, count: 64)
        m.gemv(x, into: &y, activations: .float32)
        let decoded = try f.floats("w.q8_0")
        XCTAssertEqual(y[0], decoded[0..<64].reduce(0, +), accuracy: 1e-4)
        XCTAssertEqual(y[1], decoded[64..<128].reduce(0, +), accuracy: 1e-4)
        let dense = try f.quantizedMatrix("w.f32")
        XCTAssertEqual(dense.shape, [4, 32])
        XCTAssertEqual(dense.dequantized().array, values)
        XCTAssertThrowsError(try f.quantizedMatrix("w.q4_1")) { e in
            guard case IOError.invalidTensor("known.gguf", "w.q4_1", let reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("[32, 2, 2]"), reason)
        }
        XCTAssertEqual(try f.quantizedMatrix("w.f16").shape, [1, 128])
    }

    /// Every ggml type decodes through `floats` exactly as its reference decoder.
    func testEveryTypeDecodes() throws {
        var rng = RandomGenerator(seed: 3)
        var b = GGUFBuilder()
        var expected: [String: [Float]] = [:]
        for type in GGMLType.allCases {
            let count = type.blockSize == 256 ? 512 : 64
            var bytes = (0..<type.byteCount(elements: count)!).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if type == .f32 { bytes = (0..<count).flatMap { _ in GGUFBuilder.le((rng.nextFloat() - 0.5).bitPattern) } }
            b.tensors.append(.init(name: "\(type)", dims: [UInt64(count)], type: type.rawValue, data: bytes))
            expected["\(type)"] = try type.dequantize(bytes, count: count, reference: true)
        }
        let f = try GGUFFile(data: b.build())
        for t in f.tensors {
            let got = try f.floats(t)
            let want = expected[t.name]!
            XCTAssertEqual(got.count, want.count)
            XCTAssertTrue(zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, t.name)
        }
    }
}
