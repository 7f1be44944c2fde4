import Tensor
import XCTest

final class NumericFormatTests: XCTestCase {
    func testHalfKnownValues() {
        XCTAssertEqual(HalfConversion.floatToHalfBits(1.0), 0x3C00)
        XCTAssertEqual(HalfConversion.floatToHalfBits(-2.0), 0xC000)
        XCTAssertEqual(HalfConversion.floatToHalfBits(65504), 0x7BFF)
        XCTAssertEqual(HalfConversion.floatToHalfBits(1e6), 0x7C00) // overflow to infinity
        XCTAssertEqual(HalfConversion.halfBitsToFloat(0x0001), Float(5.9604645e-08)) // smallest subnormal
        XCTAssertEqual(HalfConversion.halfBitsToFloat(0x3555), 0.33325195)
        // every finite half round-trips exactly
        for bits in UInt16(0)...UInt16(0xFFFF) where (bits & 0x7C00) != 0x7C00 {
            XCTAssertEqual(HalfConversion.floatToHalfBits(HalfConversion.halfBitsToFloat(bits)), bits)
        }
    }

    func testBFloat16RoundingAndNaN() {
        XCTAssertEqual(HalfConversion.floatToBFloat16Bits(1.0), 0x3F80)
        // 1 + 2^-8 is exactly halfway between two bf16 values: ties to even (down to 1.0)
        XCTAssertEqual(HalfConversion.floatToBFloat16Bits(1.00390625), 0x3F80)
        // just above halfway rounds up
        XCTAssertEqual(HalfConversion.floatToBFloat16Bits(Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertTrue(HalfConversion.bfloat16BitsToFloat(HalfConversion.floatToBFloat16Bits(.nan)).isNaN)
        for bits in stride(from: UInt16(0), to: 0x7F80, by: 37) {
            XCTAssertEqual(HalfConversion.floatToBFloat16Bits(HalfConversion.bfloat16BitsToFloat(bits)), bits)
        }
    }

    func testRandomGeneratorIsReproducibleAndSplittable() throws {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        XCTAssertEqual((0..<10).map { _ in a.next() }, (0..<10).map { _ in b.next() })
        var c = a.split()
        XCTAssertNotEqual(c.next(), a.next())
        let restored = try RandomGenerator(state: a.state)
        var a2 = restored
        XCTAssertEqual(a2.next(), a.next())
        XCTAssertThrowsError(try RandomGenerator(state: [0, 0, 0, 0]))
        // moments of the normal sampler
        var r = RandomGenerator(seed: 3)
        let xs = (0..<20000).map { _ in Double(r.nextNormal()) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.04)
        XCTAssertNotEqual(RandomGenerator.stream(seed: 1, index: 0), RandomGenerator.stream(seed: 1, index: 1))
    }

    func testTensorViewsAndReshape() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let r = try t.reshaped([3, 2])
        r[0] = 9
        XCTAssertEqual(t[0], 9, "reshape is a view")
        XCTAssertThrowsError(try t.reshaped([4, 2]))
        XCTAssertThrowsError(try Tensor(shape: [2, 2], values: [1]))
        let storage = AlignedBuffer<Float>(count: 10)
        XCTAssertEqual(Int(bitPattern: storage.pointer) % 64, 0, "aligned")
    }
}
