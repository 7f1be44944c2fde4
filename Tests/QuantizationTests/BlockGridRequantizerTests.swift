import Quantization
import Tensor
import TestSupport
import XCTest

/// Re-rounding merged values onto the grids of existing blocks (`BlockGridRequantizer`), checked
/// against scalar computations written here from the block formats.
final class BlockGridRequantizerTests: XCTestCase {
    static let types: [GGMLType] = [.q4_0, .q4_1, .q8_0]

    /// A base tensor: normal values quantized with the reference quantizer, and its decoded values.
    static func base(_ type: GGMLType, blocks: Int, seed: UInt64) throws -> (bytes: [UInt8], decoded: [Float]) {
        var rng = RandomGenerator(seed: seed)
        let values = (0..<(blocks * 32)).map { _ in rng.nextNormal() * 0.05 }
        let bytes = try type.quantize(values)
        return (bytes, try type.dequantize(bytes, count: values.count, reference: true))
    }

    /// Block `i`'s grid written out from the format: (code range, value of each code, step).
    static func grid(_ type: GGMLType, _ bytes: [UInt8], block i: Int) -> (codes: ClosedRange<Int>, value: (Int) -> Float, step: Float) {
        let b = i * type.typeSize
        func half(_ o: Int) -> Float { HalfConversion.halfBitsToFloat(UInt16(bytes[b + o]) | UInt16(bytes[b + o + 1]) << 8) }
        let d = half(0)
        switch type {
        case .q4_1: let m = half(2); return (0...15, { Float($0) * d + m }, abs(d))
        case .q4_0: return (0...15, { Float($0 - 8) * d }, abs(d))
        default: return (-128...127, { Float($0) * d }, abs(d))
        }
    }

    /// Block `i`'s codes written out from the format.
    static func codes(_ type: GGMLType, _ bytes: [UInt8], block i: Int) -> [Int] {
        let b = i * type.typeSize
        switch type {
        case .q8_0: return (0..<32).map { Int(Int8(bitPattern: bytes[b + 2 + $0])) }
        default:
            let o = b + (type == .q4_1 ? 4 : 2)
            return (0..<32).map { j in Int(j < 16 ? bytes[o + j] & 0x0F : bytes[o + j - 16] >> 4) }
        }
    }

    static func requantize(_ values: [Float], _ type: GGMLType, base: [UInt8], rounding: GridRounding, stream: UInt64 = 0) throws
        -> (bytes: [UInt8], stats: GridRequantizationStatistics) {
        var out = [UInt8](repeating: 0, count: base.count)
        let stats = try values.withUnsafeBufferPointer { v in
            try base.withUnsafeBytes { b in
                try out.withUnsafeMutableBytes { try BlockGridRequantizer.requantize(v, type: type, ontoGridOf: b, rounding: rounding, stream: stream, into: $0) }
            }
        }
        return (out, stats)
    }

    func testUnchangedValuesKeepTheirBytesEvenOnGridsNoQuantizerWouldChoose() throws {
        var rng = RandomGenerator(seed: 3)
        for type in Self.types {
            // random codes and scales (negative ones too): decoding and re-rounding must give the same bytes
            var bytes = (0..<(40 * type.typeSize)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            for b in 0..<40 {
                for f in type == .q4_1 ? [0, 2] : [0] {
                    let h = HalfConversion.floatToHalfBits((rng.nextFloat() - 0.5) * 0.02)
                    bytes[b * type.typeSize + f] = UInt8(h & 0xFF)
                    bytes[b * type.typeSize + f + 1] = UInt8(h >> 8)
                }
            }
            let decoded = try type.dequantize(bytes, count: 40 * 32, reference: true)
            for rounding in [GridRounding.nearest, .stochastic(seed: 5)] {
                let (out, stats) = try Self.requantize(decoded, type, base: bytes, rounding: rounding)
                XCTAssertEqual(out, bytes, "\(type) \(rounding)")
                XCTAssertEqual(stats.changedCodes, 0)
                XCTAssertEqual(stats.freshBlocks, 0)
                XCTAssertNotEqual(try type.quantize(decoded), bytes, "\(type): fresh quantization would not reproduce these blocks")
            }
        }
    }

    func testNearestRoundsToTheNearestGridValueAndRequantizesBlocksLeavingTheGrid() throws {
        for type in Self.types {
            let blocks = 300
            let (base, decoded) = try Self.base(type, blocks: blocks, seed: 11)
            var rng = RandomGenerator(seed: 12)
            var merged = decoded
            for i in 0..<blocks {
                let step = Self.grid(type, base, block: i).step
                for j in 0..<32 { merged[i * 32 + j] += rng.nextNormal() * 0.45 * step }
            }
            let (out, stats) = try Self.requantize(merged, type, base: base, rounding: .nearest)
            let result = try type.dequantize(out, count: merged.count, reference: true)
            var fresh = 0, changed = 0
            for i in 0..<blocks {
                let g = Self.grid(type, base, block: i)
                let x = Array(merged[(i * 32)..<(i * 32 + 32)])
                let ends = [g.value(g.codes.lowerBound), g.value(g.codes.upperBound)]
                let leaves = x.contains { $0 < ends.min()! - g.step / 2 || $0 > ends.max()! + g.step / 2 }
                if leaves {
                    fresh += 1
                    XCTAssertEqual(Array(out[(i * type.typeSize)..<((i + 1) * type.typeSize)]), try type.quantize(x), "\(type) block \(i) is quantized afresh")
                    continue
                }
                XCTAssertEqual(out[(i * type.typeSize)..<(i * type.typeSize + (type == .q4_1 ? 4 : 2))],
                               base[(i * type.typeSize)..<(i * type.typeSize + (type == .q4_1 ? 4 : 2))], "\(type) block \(i) keeps its scale (and min)")
                let baseCodes = Self.codes(type, base, block: i)
                for j in 0..<32 {
                    let best = g.codes.map { g.value($0) }.min { abs($0 - x[j]) < abs($1 - x[j]) }!
                    let got = result[i * 32 + j]
                    XCTAssertTrue(got == best || abs(got - x[j]) == abs(best - x[j]), "\(type) block \(i) value \(j): \(x[j]) -> \(got), nearest \(best)")
                    if got != g.value(baseCodes[j]) { changed += 1 }
                }
            }
            XCTAssertEqual(stats.freshBlocks, fresh, "\(type)")
            XCTAssertEqual(stats.changedCodes, changed, "\(type)")
            XCTAssertEqual(stats.blocks, blocks)
            XCTAssertGreaterThan(fresh, 0, "\(type): some blocks leave their grid")
            XCTAssertLessThan(fresh, blocks / 2, "\(type)")
            XCTAssertGreaterThan(changed, blocks * 32 / 10, "\(type): many codes move")
        }
    }

    /// Every value not at its grid's top code moves 0.3 steps toward the next code. Stochastic rounding
    /// gives a + s B with B ~ Bernoulli(p), p the position between the neighbouring grid values a and
    /// a + s, so rounded - merged has mean 0 and variance p (1 - p) s^2; over N independent values the
    /// mean error (taken along the move, sign(s) (rounded - merged), since Q4_0 scales may be negative)
    /// has standard deviation sigma = sqrt(sum p (1 - p) s^2) / N, and |mean| < 5 sigma fails with
    /// probability below 1e-6 for an ideal hash. Nearest rounding returns every value to its base
    /// code: a mean error of -0.3 steps, hundreds of sigmas away.
    func testStochasticRoundingIsUnbiasedAndReproducible() throws {
        for type in Self.types {
            let blocks = 2000
            let (base, decoded) = try Self.base(type, blocks: blocks, seed: 21)
            var merged = decoded
            var moved: [(index: Int, p: Double, step: Double)] = [] // step: signed, next grid value - base value
            for i in 0..<blocks {
                let g = Self.grid(type, base, block: i), codes = Self.codes(type, base, block: i)
                for j in 0..<32 where codes[j] < g.codes.upperBound && g.step > 0 {
                    let a = g.value(codes[j]), b = g.value(codes[j] + 1)
                    let x = a + 0.3 * (b - a)
                    merged[i * 32 + j] = x
                    moved.append((i * 32 + j, Double(x - a) / Double(b - a), Double(b - a)))
                }
            }
            let stream = GridRounding.stream(named: "blk.0.attn_q.weight")
            let (out, stats) = try Self.requantize(merged, type, base: base, rounding: .stochastic(seed: 9), stream: stream)
            XCTAssertEqual(stats.freshBlocks, 0, "\(type)")
            let result = try type.dequantize(out, count: merged.count, reference: true)
            let n = Double(moved.count)
            var errorSum = 0.0, varianceSum = 0.0, stepSum = 0.0, nearestErrorSum = 0.0
            for v in moved {
                let direction = v.step.sign == .minus ? -1.0 : 1.0
                errorSum += Double(result[v.index] - merged[v.index]) * direction
                nearestErrorSum += Double(decoded[v.index] - merged[v.index]) * direction
                varianceSum += v.p * (1 - v.p) * v.step * v.step
                stepSum += abs(v.step)
            }
            let meanError = errorSum / n, sigma = varianceSum.squareRoot() / n, meanStep = stepSum / n
            XCTAssertLessThan(abs(meanError), 5 * sigma, "\(type): mean error \(meanError), sigma \(sigma)")
            let up = moved.filter { result[$0.index] != decoded[$0.index] }.count
            XCTAssertEqual(Double(up) / n, 0.3, accuracy: 0.02, "\(type): about 30% of the values round up")

            let (nearest, _) = try Self.requantize(merged, type, base: base, rounding: .nearest)
            XCTAssertEqual(nearest, base, "\(type): nearest rounding returns every moved value to its base code")
            let nearestError = nearestErrorSum / n // nearest gives the base values back, checked above
            XCTAssertEqual(nearestError / meanStep, -0.3, accuracy: 0.01, "\(type)")
            XCTAssertGreaterThan(abs(nearestError), 100 * sigma, "\(type)")

            // reproducible: the same seed and stream give the same bytes; another seed or stream others
            XCTAssertEqual(try Self.requantize(merged, type, base: base, rounding: .stochastic(seed: 9), stream: stream).bytes, out)
            XCTAssertNotEqual(try Self.requantize(merged, type, base: base, rounding: .stochastic(seed: 10), stream: stream).bytes, out)
            XCTAssertNotEqual(try Self.requantize(merged, type, base: base, rounding: .stochastic(seed: 9), stream: stream + 1).bytes, out)
        }
    }

    func testUnsupportedTypesAndWrongSizesThrow() throws {
        let values = [Float](repeating: 0.5, count: 64)
        XCTAssertThrowsError(try Self.requantize(values, .q5_0, base: [UInt8](repeating: 0, count: 44), rounding: .nearest)) {
            XCTAssertEqual($0 as? QuantizationError, .noBlockGrid(type: .q5_0))
            XCTAssertTrue("\($0)".contains("Q4_1"), "\($0)")
        }
        XCTAssertThrowsError(try Self.requantize(values, .q4_1, base: [UInt8](repeating: 0, count: 20), rounding: .nearest)) {
            XCTAssertEqual($0 as? QuantizationError, .byteCountMismatch(type: .q4_1, elements: 64, expected: 40, actual: 20))
        }
        XCTAssertThrowsError(try Self.requantize(Array(values.prefix(40)), .q8_0, base: [UInt8](repeating: 0, count: 68), rounding: .nearest)) {
            XCTAssertEqual($0 as? QuantizationError, .notBlockMultiple(type: .q8_0, count: 40))
        }
    }
}
