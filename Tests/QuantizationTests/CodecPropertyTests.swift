import Quantization
import Tensor
import TestSupport
import XCTest

/// Properties of the codecs that hold for any input: fast decoders equal the scalar references,
/// quantization error stays within half a quantization step, and bad sizes throw typed errors.
final class CodecPropertyTests: XCTestCase {
    /// Random encoded blocks with finite, moderate half-float scale fields.
    static func randomBlocks(_ type: GGMLType, blocks: Int, rng: inout RandomGenerator) -> [UInt8] {
        var bytes = (0..<(blocks * type.typeSize)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let halfFields: [Int]
        switch type {
        case .q4_0, .q8_0, .q5_0: halfFields = [0]
        case .q4_1, .q5_1, .q4_K: halfFields = [0, 2]
        case .q6_K: halfFields = [208]
        default: halfFields = []
        }
        for b in 0..<blocks {
            for f in halfFields {
                let h = HalfConversion.floatToHalfBits((rng.nextFloat() - 0.5) * 0.02)
                bytes[b * type.typeSize + f] = UInt8(h & 0xFF)
                bytes[b * type.typeSize + f + 1] = UInt8(h >> 8)
            }
        }
        return bytes
    }

    func testFastDecodersEqualReferenceOnRandomBlocks() throws {
        var rng = RandomGenerator(seed: 7)
        for type in GGMLType.allCases {
            let blocks = type.blockSize == 1 ? 333 : 13
            let bytes = Self.randomBlocks(type, blocks: blocks, rng: &rng)
            let count = blocks * type.blockSize
            let reference = try type.dequantize(bytes, count: count, reference: true)
            for isa in KernelISA.available {
                var fast = [Float](repeating: 0, count: count)
                bytes.withUnsafeBytes { raw in fast.withUnsafeMutableBufferPointer { type.dequantizeRow(raw.baseAddress!, into: $0.baseAddress!, count: count, isa: isa) } }
                assertSameFloats(fast, reference, "\(type) \(isa)")
            }
        }
    }

    func testHalfDecodingIsExactForAllBitPatterns() throws {
        let bits = (0...0xFFFF).map { UInt16($0) }
        let bytes = bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let expected = bits.map { HalfConversion.halfBitsToFloat($0) }
        for isa in KernelISA.available {
            var out = [Float](repeating: 0, count: bits.count)
            bytes.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { GGMLType.f16.dequantizeRow(raw.baseAddress!, into: $0.baseAddress!, count: bits.count, isa: isa) } }
            assertSameFloats(out, expected, "f16 \(isa)")
        }
    }

    /// |x - dequantize(quantize(x))| <= d/2 in every block, with d the block's float32 step; plus the
    /// rounding of d (and m) to half precision times the largest code, and, for Q4_0/Q5_0, one full
    /// step for values clipped at the top code (the value opposite in sign to the block's extreme).
    func testQuantizationErrorIsWithinHalfAStep() throws {
        var rng = RandomGenerator(seed: 11)
        let blocks = 400
        var x = [Float](repeating: 0, count: 32 * blocks)
        for b in 0..<blocks {
            let scale = Float.pow10(Float(rng.nextInt(below: 6)) - 4)
            let shift = rng.nextNormal() * scale * Float(rng.nextInt(below: 3))
            for j in 0..<32 { x[32 * b + j] = rng.nextNormal() * scale + shift }
            if b % 7 == 0 { x[32 * b + 5] = -x[32 * b + 3] }   // equal magnitudes of both signs
        }
        for type in [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1] {
            let y = try type.dequantize(try type.quantize(x), count: x.count)
            for b in 0..<blocks {
                let v = Array(x[(32 * b)..<(32 * b + 32)])
                let lo = v.min()!, hi = v.max()!, amax = v.map(abs).max()!
                let signedMax = v.first { abs($0) == amax }!
                let step: Float, codes: Float, minError: Float
                switch type {
                case .q8_0: step = amax / 127; codes = 127; minError = 0
                case .q4_0: step = abs(signedMax / -8); codes = 8; minError = 0
                case .q5_0: step = abs(signedMax / -16); codes = 16; minError = 0
                case .q4_1: step = (hi - lo) / 15; codes = 15; minError = abs(lo - Float(Float16(lo)))
                default: step = (hi - lo) / 31; codes = 31; minError = abs(lo - Float(Float16(lo)))
                }
                let halfError = abs(step - abs(Float(Float16(step))))
                for j in 0..<32 {
                    let err = abs(v[j] - y[32 * b + j])
                    // Q4_0 / Q5_0 values within half a step of the positive extreme code fall into the clip.
                    let top: Float = type == .q4_0 ? 7.5 : 15.5
                    let clipped = (type == .q4_0 || type == .q5_0) && v[j] / (signedMax / (type == .q4_0 ? -8 : -16)) >= top - 1e-4
                    let bound = (clipped ? step : step / 2) + codes * halfError + minError + 1e-6 * amax + Float.leastNormalMagnitude
                    if !(err <= bound) {
                        XCTFail("\(type) block \(b) value \(j): x = \(v[j]), decoded \(y[32 * b + j]), error \(err) > \(bound)")
                        return
                    }
                }
            }
        }
    }

    func testSizeErrorsAreTyped() throws {
        XCTAssertThrowsError(try GGMLType.q4_1.quantize([Float](repeating: 1, count: 33))) {
            XCTAssertEqual($0 as? QuantizationError, .notBlockMultiple(type: .q4_1, count: 33))
        }
        XCTAssertThrowsError(try GGMLType.q4_K.quantize([Float](repeating: 1, count: 256))) {
            XCTAssertEqual($0 as? QuantizationError, .cannotQuantize(type: .q4_K))
        }
        XCTAssertThrowsError(try GGMLType.q8_0.dequantize([UInt8](repeating: 0, count: 33), count: 32)) {
            XCTAssertEqual($0 as? QuantizationError, .byteCountMismatch(type: .q8_0, elements: 32, expected: 34, actual: 33))
        }
        XCTAssertThrowsError(try GGMLType.q6_K.dequantize([UInt8](repeating: 0, count: 210), count: 100)) {
            XCTAssertEqual($0 as? QuantizationError, .notBlockMultiple(type: .q6_K, count: 100))
            XCTAssertTrue("\($0)".contains("Q6_K"))
        }
        XCTAssertEqual(try GGMLType.q4_0.dequantize([UInt8](), count: 0), [])
        XCTAssertEqual(GGMLType(name: "q4_k"), .q4_K)
        XCTAssertNil(GGMLType(name: "Q3_K"))
    }

    func testActivationQuantizerMatchesReferenceIncludingTies() throws {
        var rng = RandomGenerator(seed: 5)
        var x = (0..<(32 * 40)).map { _ in rng.nextNormal() * 3 }
        // A block with absmax 127 (d = 1): every value x.5 is a tie, rounded half to even.
        for j in 0..<32 { x[j] = Float(j) - 15.5 }
        x[31] = 127
        for j in 32..<64 { x[j] = 0 }                        // all-zero block
        let reference = Q8Activations.reference(x, count: x.count)
        XCTAssertEqual(Array(reference.values[0..<4]), [-16, -14, -14, -12])
        for isa in KernelISA.available {
            let fast = Q8Activations(x, count: x.count, isa: isa)
            XCTAssertEqual(fast.values, reference.values, "\(isa)")
            XCTAssertEqual(fast.scales.map(\.bitPattern), reference.scales.map(\.bitPattern), "\(isa)")
            XCTAssertEqual(fast.sums.map(\.bitPattern), reference.sums.map(\.bitPattern), "\(isa)")
        }
        // Independent property: |x - q d| <= d / 2.
        let deq = reference.dequantized
        for i in 0..<x.count { XCTAssertLessThanOrEqual(abs(deq[i] - x[i]), reference.scales[i / 32] * 0.5001 + 1e-7) }
    }
}

private extension Float {
    static func pow10(_ e: Float) -> Float { Float(Foundation.pow(10.0, Double(e))) }
}
