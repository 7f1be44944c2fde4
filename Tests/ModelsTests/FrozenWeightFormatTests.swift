import Models
import NN
import Quantization
import Tensor
import TestSupport
import XCTest

/// Parsing of the frozen-weight format names and the linear maps each format builds, checked against
/// float32 products with the original weight.
final class FrozenWeightFormatTests: XCTestCase {
    func testParsesTheCLINamesAndListsChoicesOnError() throws {
        XCTAssertEqual(FrozenWeightFormat.choices, ["none", "int8", "nf4", "q8_0", "q4_0", "q4_1"])
        for name in FrozenWeightFormat.choices { XCTAssertEqual(try FrozenWeightFormat(parsing: name).cliName, name) }
        XCTAssertEqual(try FrozenWeightFormat(parsing: "f32"), .f32)
        XCTAssertEqual(try FrozenWeightFormat(parsing: "NF4"), .nf4)
        XCTAssertThrowsError(try FrozenWeightFormat(parsing: "q5_k")) { error in
            XCTAssertEqual(error as? FrozenWeightFormatError, .unknownFormat("q5_k", choices: FrozenWeightFormat.choices))
            XCTAssertEqual("\(error)", "unknown frozen-weight format 'q5_k' (choose one of: none, int8, nf4, q8_0, q4_0, q4_1)")
        }
    }

    /// Relative tolerance of each format's forward product on Gaussian weights and inputs, about three
    /// times the typical error of its rounding (the products' own float error is far smaller).
    static let tolerance: [FrozenWeightFormat: Float] = [.f32: 1e-5, .int8: 0.02, .nf4: 0.25, .q8_0: 0.02, .q4_0: 0.3, .q4_1: 0.25]

    func testEveryFormatApproximatesTheFloatProducts() throws {
        var rng = RandomGenerator(seed: 1)
        let (out, inp, n) = (48, 128, 12)
        let w = Tensor.normal([out, inp], std: 0.05, rng: &rng)
        let x = Tensor.normal([n, inp], std: 1, rng: &rng)
        let dy = Tensor.normal([n, out], std: 1, rng: &rng)
        let y0 = Tensor(zeros: [n, out]), dx0 = Tensor(zeros: [n, inp])
        BLAS.gemmReference(transB: true, m: n, n: out, k: inp, a: x.pointer, b: w.pointer, c: y0.pointer)
        BLAS.gemmReference(m: n, n: inp, k: out, a: dy.pointer, b: w.pointer, c: dx0.pointer)
        var bytes: [FrozenWeightFormat: Int] = [:]
        for format in FrozenWeightFormat.allCases {
            let map = try format.makeLinearMap(weight: w, name: "blk.0.attn_q.weight")
            XCTAssertEqual(map.outFeatures, out)
            XCTAssertEqual(map.inFeatures, inp)
            bytes[format] = map.storageBytes
            let y = Tensor(zeros: [n, out]), dx = Tensor(zeros: [n, inp])
            dx.fill(1)    // backwardInput accumulates
            map.forward(x.pointer, rows: n, into: y.pointer)
            map.backwardInput(dy.pointer, rows: n, accumulateInto: dx.pointer)
            for i in 0..<dx.count { dx.pointer[i] -= 1 }
            let tol = Self.tolerance[format]!
            XCTAssertLessThan(Self.relativeRMS(y, y0), tol, "\(format) forward")
            XCTAssertLessThan(Self.relativeRMS(dx, dx0), tol, "\(format) backward")
            XCTAssertGreaterThan(Self.relativeRMS(y, y0), format == .f32 ? -1 : tol / 100, "\(format) is lossy")
        }
        XCTAssertEqual(bytes[.f32], out * inp * 4)
        XCTAssertEqual(bytes[.int8], out * inp + 4 * out)
        XCTAssertEqual(bytes[.nf4], out * inp / 2 + out * inp / 64 + 4 + 4)
        XCTAssertEqual(bytes[.q4_0], out * inp / 32 * 18)
    }

    func testTypesOfTheBuiltMaps() throws {
        let w = Tensor(zeros: [4, 64])
        XCTAssertTrue(try FrozenWeightFormat.f32.makeLinearMap(weight: w) is DenseLinearMap)
        XCTAssertTrue(try FrozenWeightFormat.int8.makeLinearMap(weight: w) is Int8LinearMap)
        XCTAssertTrue(try FrozenWeightFormat.nf4.makeLinearMap(weight: w) is NF4LinearMap)
        let q = try FrozenWeightFormat.q4_1.makeLinearMap(weight: w)
        XCTAssertEqual((q as? QuantizedLinearMap)?.matrix.type, .q4_1)
    }

    func testBlockMultiplesAndBadWeightsAreClearErrors() throws {
        var rng = RandomGenerator(seed: 2)
        let w = Tensor.normal([8, 96], std: 0.05, rng: &rng)
        XCTAssertThrowsError(try FrozenWeightFormat.nf4.makeLinearMap(weight: w, name: "blk.3.ffn_down.weight")) { error in
            XCTAssertEqual(error as? FrozenWeightFormatError,
                           .notBlockMultiple(name: "blk.3.ffn_down.weight", format: "nf4", shape: [8, 96], blockSize: 64))
            XCTAssertTrue("\(error)".contains("96 input features are not a multiple of the block size 64"), "\(error)")
        }
        for format in [FrozenWeightFormat.f32, .int8, .q8_0, .q4_0, .q4_1] {
            XCTAssertEqual(try format.makeLinearMap(weight: w).inFeatures, 96, "\(format) takes 96 columns")
        }
        let odd = Tensor.normal([8, 100], std: 0.05, rng: &rng)
        XCTAssertThrowsError(try FrozenWeightFormat.q4_0.makeLinearMap(weight: odd)) { error in
            XCTAssertEqual(error as? FrozenWeightFormatError, .notBlockMultiple(name: "weight", format: "q4_0", shape: [8, 100], blockSize: 32))
        }
        XCTAssertThrowsError(try FrozenWeightFormat.int8.makeLinearMap(weight: Tensor(zeros: [64]))) { error in
            XCTAssertEqual(error as? FrozenWeightFormatError, .notAMatrix(name: "weight", shape: [64]))
        }
        for format in [FrozenWeightFormat.int8, .nf4, .q4_1] {
            let input = Tensor.normal([8, 64], std: 0.05, rng: &rng)
            input.pointer[2 * 64 + 7] = .nan
            XCTAssertThrowsError(try format.makeLinearMap(weight: input, name: "W")) { error in
                XCTAssertEqual("\(error)", "cannot store weight W as \(format.cliName): value nan at row 2, column 7 is not finite")
            }
        }
    }

    func testQuantizedSourcesAreKeptAsStoredOrConverted() throws {
        var rng = RandomGenerator(seed: 3)
        let w = Tensor.normal([16, 128], std: 0.05, rng: &rng)
        let source = try QuantizedMatrix(quantizing: w, as: .q4_1)
        let kept = try FrozenWeightFormat.q4_1.makeLinearMap(quantized: source)
        XCTAssertTrue((kept as? QuantizedLinearMap)?.matrix === source, "same ggml type: the very same matrix")
        // Another format decodes the stored weight once and encodes that.
        let decoded = source.dequantized()
        let x = Tensor.normal([3, 128], std: 1, rng: &rng)
        for format in [FrozenWeightFormat.f32, .int8, .nf4, .q8_0] {
            let map = try format.makeLinearMap(quantized: source)
            let expected = try format.makeLinearMap(weight: decoded.copy())
            let (y, y0) = (Tensor(zeros: [3, 16]), Tensor(zeros: [3, 16]))
            map.forward(x.pointer, rows: 3, into: y.pointer)
            expected.forward(x.pointer, rows: 3, into: y0.pointer)
            XCTAssertEqual(y.array, y0.array, "\(format) from Q4_1")
        }
    }

    static func relativeRMS(_ a: Tensor, _ b: Tensor) -> Float {
        var se = 0.0, sb = 0.0
        for i in 0..<b.count {
            se += Double((a.pointer[i] - b.pointer[i]) * (a.pointer[i] - b.pointer[i]))
            sb += Double(b.pointer[i] * b.pointer[i])
        }
        return Float((se / max(sb, 1e-30)).squareRoot())
    }
}
