import XCTest
@testable import Tokenizers

final class ByteLevelEncodingTests: XCTestCase {
    func testAllBytesRoundTripThroughDistinctPrintableScalars() {
        let scalars = ByteLevelEncoding.byteToScalar
        XCTAssertEqual(scalars.count, 256)
        XCTAssertEqual(Set(scalars).count, 256, "the map must be a bijection")
        for b in 0...255 {
            let s = scalars[b]
            XCTAssertEqual(ByteLevelEncoding.byte(for: s), UInt8(b))
            XCTAssertFalse(s.properties.isWhitespace, "byte \(b) maps to whitespace")
            XCTAssertNotEqual(s.properties.generalCategory, .control, "byte \(b) maps to a control character")
        }
        let all = (0...255).map { UInt8($0) }
        XCTAssertEqual(ByteLevelEncoding.decode(ByteLevelEncoding.encode(all)), all)
    }

    func testKnownAssignments() {
        // GPT-2's bytes_to_unicode: printable ranges keep their code point, the rest count up from U+0100.
        XCTAssertEqual(ByteLevelEncoding.byteToScalar[0x20], "\u{120}")   // space -> Ġ
        XCTAssertEqual(ByteLevelEncoding.byteToScalar[0x0A], "\u{10A}")   // newline -> Ċ
        XCTAssertEqual(ByteLevelEncoding.byteToScalar[0x00], "\u{100}")
        XCTAssertEqual(ByteLevelEncoding.byteToScalar[0x7F], "\u{121}")
        XCTAssertEqual(ByteLevelEncoding.byteToScalar[0xAD], "\u{143}")   // soft hyphen is the last remapped byte
        XCTAssertEqual(ByteLevelEncoding.byteToScalar[0x41], "A")
        XCTAssertEqual(ByteLevelEncoding.byteToScalar[0xE9], "é")
        XCTAssertEqual(ByteLevelEncoding.encode(Array(" héllo".utf8)), "ĠhÃ©llo")
        XCTAssertNil(ByteLevelEncoding.decode("a b"), "a real space is not in the alphabet")
        XCTAssertNil(ByteLevelEncoding.decode("€"))
    }
}
