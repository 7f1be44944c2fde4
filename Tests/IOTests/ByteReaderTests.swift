import Foundation
import XCTest
@testable import IO
import TestSupport

final class ByteReaderTests: XCTestCase {
    func testReadsLittleEndianValuesAndTracksOffset() throws {
        var bytes: [UInt8] = [0xAB]                                   // u8
        bytes += GGUFBuilder.le(Int8(-5))
        bytes += GGUFBuilder.le(UInt16(0xBEEF))
        bytes += GGUFBuilder.le(Int16(-1234))
        bytes += GGUFBuilder.le(UInt32(0xDEADBEEF))
        bytes += GGUFBuilder.le(Int32(-123_456_789))
        bytes += GGUFBuilder.le(UInt64(0x0123_4567_89AB_CDEF))
        bytes += GGUFBuilder.le(Int64.min)
        bytes += GGUFBuilder.le(Float(3.25).bitPattern)
        bytes += GGUFBuilder.le(Double(-0.1).bitPattern)
        bytes += [1, 0]
        bytes += GGUFBuilder.string("héllo €")
        try bytes.withUnsafeBytes { raw in
            var r = ByteReader(bytes: raw, file: "mem.bin")
            XCTAssertEqual(try r.readU8("a"), 0xAB)
            XCTAssertEqual(try r.readI8("b"), -5)
            XCTAssertEqual(try r.readU16("c"), 0xBEEF)
            XCTAssertEqual(try r.readI16("d"), -1234)
            XCTAssertEqual(try r.readU32("e"), 0xDEADBEEF)
            XCTAssertEqual(try r.readI32("f"), -123_456_789)
            XCTAssertEqual(try r.readU64("g"), 0x0123_4567_89AB_CDEF)
            XCTAssertEqual(try r.readI64("h"), Int64.min)
            XCTAssertEqual(try r.readF32("i"), 3.25)
            XCTAssertEqual(try r.readF64("j"), -0.1)
            XCTAssertEqual(try r.readBool("k"), true)
            XCTAssertEqual(try r.readBool("l"), false)
            XCTAssertEqual(r.offset, 1 + 1 + 2 + 2 + 4 + 4 + 8 + 8 + 4 + 8 + 2)
            XCTAssertEqual(try r.readGGUFString("m"), "héllo €")
            XCTAssertTrue(r.isAtEnd)
        }
    }

    func testTruncationNamesFileOffsetAndWhat() throws {
        let bytes: [UInt8] = [1, 2, 3]
        try bytes.withUnsafeBytes { raw in
            var r = ByteReader(bytes: raw, file: "weights.gguf")
            XCTAssertEqual(try? r.readU16("first"), 0x0201)
            XCTAssertThrowsError(try r.readU32("the block count")) { error in
                guard case IOError.truncated(let file, let offset, let what) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(file, "weights.gguf")
                XCTAssertEqual(offset, 2)
                XCTAssertTrue(what.contains("the block count"))
                let message = "\(error)"
                XCTAssertTrue(message.contains("weights.gguf") && message.contains("offset 2") && message.contains("block count"), message)
            }
            XCTAssertEqual(r.offset, 2, "a failed read must not move the cursor")
        }
    }

    func testRejectsBadBoolStringLengthAndInvalidUTF8() throws {
        var bytes: [UInt8] = [2]
        bytes += GGUFBuilder.le(UInt64(1000)) + Array("abc".utf8)
        try bytes.withUnsafeBytes { raw in
            var r = ByteReader(bytes: raw, file: "f")
            XCTAssertThrowsError(try r.readBool("flag")) { e in
                guard case IOError.invalidValue = e else { return XCTFail("\(e)") }
            }
            XCTAssertThrowsError(try r.readGGUFString("name")) { e in
                guard case IOError.truncated = e else { return XCTFail("\(e)") }
            }
        }
        let bad: [UInt8] = GGUFBuilder.le(UInt64(2)) + [0xC3, 0x28]
        try bad.withUnsafeBytes { raw in
            var r = ByteReader(bytes: raw, file: "f")
            XCTAssertThrowsError(try r.readGGUFString("name")) { e in
                guard case IOError.invalidValue(_, _, _, let reason) = e else { return XCTFail("\(e)") }
                XCTAssertTrue(reason.contains("UTF-8"))
            }
        }
    }

    func testMappedFileErrorsAndContents() throws {
        XCTAssertThrowsError(try MappedFile(path: "/nonexistent/dir/model.gguf")) { e in
            XCTAssertEqual(e as? IOError, .fileNotFound(path: "/nonexistent/dir/model.gguf"))
            XCTAssertTrue("\(e)".contains("/nonexistent/dir/model.gguf"))
        }
        let dir = try FixturePaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try MappedFile(path: dir.path)) { e in
            guard case IOError.unreadable(let path, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(path, dir.path)
        }
        let file = dir.appendingPathComponent("x.bin")
        let payload = Data((0..<5000).map { UInt8($0 % 251) })
        try payload.write(to: file)
        let mapped = try MappedFile(path: file.path)
        XCTAssertTrue(mapped.isMemoryMapped)
        XCTAssertEqual(Data(mapped.bytes), payload)
        let empty = dir.appendingPathComponent("empty.bin")
        try Data().write(to: empty)
        XCTAssertEqual(try MappedFile(path: empty.path).count, 0)
        // Files whose size is not known in advance are read instead of mapped.
        if FileManager.default.fileExists(atPath: "/proc/self/status") {
            let status = try MappedFile(path: "/proc/self/status")
            XCTAssertFalse(status.isMemoryMapped)
            XCTAssertTrue(String(decoding: status.bytes, as: UTF8.self).contains("Pid:"))
        }
    }
}
