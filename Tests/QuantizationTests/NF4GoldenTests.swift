import Quantization
import XCTest

/// NF4 encoding and decoding against bitsandbytes (fixture from dev/make_nf4_goldens.py).
final class NF4GoldenTests: XCTestCase {
    func testTablesMatchBitsandbytes() throws {
        let g = try NF4GoldenFixture.load()
        assertSameFloats(NF4Codebook.levels, g.levels, "NF4 levels (\(g.source))")
        assertSameFloats(NF4Codebook.dynamicMap, g.dynamicMap, "dynamic map (\(g.source))")
    }

    func testEncodingMatchesBitsandbytesCodesAndExactDoubleQuantization() throws {
        let g = try NF4GoldenFixture.load()
        XCTAssertEqual(g.cases.count, 2)
        for c in g.cases {
            let m = try c.weights.withUnsafeBufferPointer { try NF4Matrix(quantizing: $0.baseAddress!, rows: c.rows, columns: c.columns) }
            let label = "[\(c.rows), \(c.columns)]"
            XCTAssertEqual(Array(m.packedCodes), c.packed, "\(label) 4-bit codes")
            XCTAssertEqual(Array(m.scaleCodes), c.specScaleCodes, "\(label) 8-bit scale codes")
            assertSameFloats(Array(m.groupScales), c.specGroupScales, "\(label) group scales")
            XCTAssertEqual(m.offset.bitPattern, c.specOffset.bitPattern, "\(label) offset")
            // bitsandbytes' float32 mean of the block scales agrees up to its rounding.
            XCTAssertEqual(m.offset, c.bnbOffset, accuracy: 1e-6 * abs(c.bnbOffset), "\(label) offset vs bitsandbytes")
            // Where bitsandbytes' approximate search picked the other neighbour, codes differ by one.
            let differing = zip(m.scaleCodes, c.bnbScaleCodes).filter { $0 != $1 }
            XCTAssertLessThanOrEqual(differing.count, 2, "\(label) scale codes differing from bitsandbytes")
            for (a, b) in differing { XCTAssertEqual(abs(Int(a) - Int(b)), 1, "\(label) scale code \(a) vs bitsandbytes \(b)") }
        }
    }

    func testDecodingBitsandbytesStateIsBitExact() throws {
        let g = try NF4GoldenFixture.load()
        for c in g.cases {
            let m = try NF4Matrix(rows: c.rows, columns: c.columns, packedCodes: c.packed, scaleCodes: c.bnbScaleCodes,
                                  groupScales: c.bnbGroupScales, offset: c.bnbOffset)
            let label = "[\(c.rows), \(c.columns)]"
            assertSameFloats(m.dequantized(reference: true).array, c.bnbDecoded, "\(label) reference decoder")
            for isa in KernelISA.available {
                var out = [Float](repeating: .nan, count: c.rows * c.columns)
                out.withUnsafeMutableBufferPointer { m.dequantizeRows(0..<c.rows, into: $0.baseAddress!, isa: isa) }
                assertSameFloats(out, c.bnbDecoded, "\(label) \(isa) kernel")
            }
        }
    }

    func testStateWithWrongPartLengthsIsRejected() throws {
        let g = try NF4GoldenFixture.load()
        let c = g.cases[0]
        XCTAssertThrowsError(try NF4Matrix(rows: c.rows, columns: c.columns, packedCodes: Array(c.packed.dropLast()),
                                           scaleCodes: c.bnbScaleCodes, groupScales: c.bnbGroupScales, offset: c.bnbOffset)) { error in
            XCTAssertTrue("\(error)".contains("packed codes"), "\(error)")
        }
        XCTAssertThrowsError(try NF4Matrix(rows: c.rows, columns: c.columns, packedCodes: c.packed, scaleCodes: c.bnbScaleCodes,
                                           groupScales: c.bnbGroupScales + [1], offset: c.bnbOffset)) { error in
            XCTAssertTrue("\(error)".contains("group scales"), "\(error)")
        }
    }
}
