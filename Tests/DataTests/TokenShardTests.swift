import Foundation
import XCTest
import IO
import TestSupport
@testable import Data

final class TokenShardTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try FixturePaths.makeTemporaryDirectory("shards") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Reads the raw little-endian words of a file, independently of TokenShard.
    func rawInt32s(_ p: String, count: Int) throws -> [Int32] {
        let d = try Data(contentsOf: URL(fileURLWithPath: p))
        return (0..<count).map { i in d.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) } }
    }

    func testRoundTripUInt16() throws {
        let tokens: [Int32] = [0, 1, 2, 65535, 40000, 7, 0]
        let p = path("a_train_000000.bin")
        try TokenShardWriter.write(tokens, to: p, format: .uint16)
        XCTAssertEqual(try rawInt32s(p, count: 3), [20240520, 1, 7])
        let size = try FileManager.default.attributesOfItem(atPath: p)[.size] as! Int
        XCTAssertEqual(size, 1024 + 2 * tokens.count)
        let s = try TokenShard(path: p)
        XCTAssertEqual(s.format, .uint16)
        XCTAssertEqual(s.count, tokens.count)
        XCTAssertEqual(s.allTokens(), tokens)
        XCTAssertEqual(s[3], 65535)
        XCTAssertEqual(s.tokens(2..<5), [2, 65535, 40000])
    }

    func testRoundTripUInt32() throws {
        let tokens: [Int32] = [0, 65536, 100_000, Int32.max, 3]
        let p = path("b.bin")
        try TokenShardWriter.write(tokens, to: p, format: .uint32)
        XCTAssertEqual(try rawInt32s(p, count: 3), [20240801, 7, 5])
        let s = try TokenShard(path: p)
        XCTAssertEqual(s.format, .uint32)
        XCTAssertEqual(s.allTokens(), tokens)
        let empty = path("empty.bin")
        try TokenShardWriter.write([], to: empty, format: .uint32)
        XCTAssertEqual(try TokenShard(path: empty).count, 0)
    }

    func testFormatChoice() {
        XCTAssertEqual(TokenShardFormat.forVocabulary(size: 49152), .uint16)
        XCTAssertEqual(TokenShardFormat.forVocabulary(size: 65536), .uint16)
        XCTAssertEqual(TokenShardFormat.forVocabulary(size: 65537), .uint32)
    }

    func testOutOfRangeTokensAreRejectedAndNothingIsWritten() throws {
        let p = path("bad.bin")
        XCTAssertThrowsError(try TokenShardWriter.write([1, 70000], to: p, format: .uint16)) { e in
            XCTAssertEqual(e as? DataError, .tokenOutOfRange(file: p, index: 1, value: 70000, format: "uint16"))
        }
        XCTAssertThrowsError(try TokenShardWriter.write([-1], to: p, format: .uint32))
        XCTAssertFalse(FileManager.default.fileExists(atPath: p))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "no temporary files left behind")
    }

    func testBadShardsThrowErrorsNamingTheFile() throws {
        let good = path("good.bin")
        try TokenShardWriter.write(Array(0..<100), to: good, format: .uint16)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))

        func check(_ name: String, _ data: Data, _ match: (IOError) -> Bool) throws {
            let p = path(name)
            try data.write(to: URL(fileURLWithPath: p))
            XCTAssertThrowsError(try TokenShard(path: p), name) { e in
                guard let io = e as? IOError else { return XCTFail("\(name): \(e)") }
                XCTAssertTrue(match(io), "\(name): \(io)")
                XCTAssertTrue(io.description.contains(p), "\(name): \(io)")
            }
        }
        var wrongMagic = bytes
        wrongMagic[0] = 0x11
        try check("magic.bin", wrongMagic) { if case .badMagic = $0 { return true }; return false }
        var wrongVersion = bytes
        wrongVersion[4] = 7     // version 7 with the uint16 magic
        try check("version.bin", wrongVersion) { if case .unsupportedVersion(_, 7, _) = $0 { return true }; return false }
        try check("header.bin", bytes.prefix(500)) { if case .truncated = $0 { return true }; return false }
        try check("short.bin", bytes.prefix(1024 + 150)) { if case .truncated = $0 { return true }; return false }
        var tooMany = bytes
        tooMany[8] = 0xFF; tooMany[9] = 0xFF   // count 65535 > 100 tokens present
        try check("count.bin", tooMany) { if case .truncated = $0 { return true }; return false }
        var negative = bytes
        negative[11] = 0x80
        try check("negative.bin", negative) { if case .invalidValue = $0 { return true }; return false }
        try check("extra.bin", bytes + Data([1, 2])) { if case .invalidValue(_, _, "token count", _) = $0 { return true }; return false }
        XCTAssertThrowsError(try TokenShard(path: path("missing.bin"))) { e in
            XCTAssertEqual(e as? IOError, .fileNotFound(path: path("missing.bin")))
        }
    }
}
