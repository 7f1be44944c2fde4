import Foundation
import IO

/// A memory-mapped, validated llm.c token shard (read-only).
///
/// Layout: 256 little-endian int32 header words (`[0]` magic, `[1]` version, `[2]` token count),
/// then `count` tokens of 2 or 4 bytes. The file size must match the count exactly.
public final class TokenShard: @unchecked Sendable {
    /// Header size in bytes (256 int32 words).
    public static let headerBytes = 1024

    /// The path the shard was opened from.
    public let path: String
    /// uint16 (version 1) or uint32 (version 7).
    public let format: TokenShardFormat
    /// Number of tokens in the shard.
    public let count: Int
    private let file: MappedFile
    private let tokens: UnsafeRawPointer

    /// Opens and validates the shard at `path`.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        self.path = path
        var r = ByteReader(file)
        let magic = try r.readI32("shard header magic")
        guard let format = TokenShardFormat(magic: magic) else {
            throw IOError.badMagic(file: path, expected: "20240520 (uint16 tokens) or 20240801 (uint32 tokens)", found: "\(magic)")
        }
        let version = try r.readI32("shard header version")
        guard version == format.version else {
            throw IOError.unsupportedVersion(file: path, version: Int(version),
                                             supported: "\(format.version) for magic \(format.magic)")
        }
        let count = try r.readI32("shard header token count")
        try r.seek(to: TokenShard.headerBytes, "end of the 1024-byte shard header")
        guard count >= 0 else {
            throw IOError.invalidValue(file: path, offset: 8, key: "token count", reason: "negative count \(count)")
        }
        let expected = TokenShard.headerBytes + Int(count) * format.bytesPerToken
        guard expected <= file.count else {
            throw IOError.truncated(file: path, offset: file.count,
                what: "tokens: header says \(count) tokens (\(expected) bytes) but the file has \(file.count) bytes")
        }
        guard expected == file.count else {
            throw IOError.invalidValue(file: path, offset: expected, key: "token count",
                reason: "header says \(count) tokens but the file has \(file.count - expected) extra bytes")
        }
        self.format = format
        self.count = Int(count)
        self.tokens = file.bytes.baseAddress.map { UnsafeRawPointer($0) + TokenShard.headerBytes }
            ?? UnsafeRawPointer(bitPattern: 1)!
    }

    /// Token `i` (0 <= i < count).
    @inline(__always)
    public subscript(i: Int) -> Int32 {
        precondition(i >= 0 && i < count, "token index \(i) out of range 0..<\(count) in \(path)")
        switch format {
        case .uint16: return Int32(UInt16(littleEndian: tokens.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case .uint32: return Int32(bitPattern: UInt32(littleEndian: tokens.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
    }

    /// Copies tokens `start..<start+n` into `destination`.
    public func copyTokens(from start: Int, count n: Int, into destination: UnsafeMutablePointer<Int32>) {
        precondition(start >= 0 && n >= 0 && start + n <= count, "range \(start)..<\(start + n) outside 0..<\(count) in \(path)")
        switch format {
        case .uint16:
            for k in 0..<n {
                destination[k] = Int32(UInt16(littleEndian: tokens.loadUnaligned(fromByteOffset: 2 * (start + k), as: UInt16.self)))
            }
        case .uint32:
            for k in 0..<n {
                destination[k] = Int32(bitPattern: UInt32(littleEndian: tokens.loadUnaligned(fromByteOffset: 4 * (start + k), as: UInt32.self)))
            }
        }
    }

    /// Tokens in `range` as an array.
    public func tokens(_ range: Range<Int>) -> [Int32] {
        [Int32](unsafeUninitializedCapacity: range.count) { buf, n in
            if range.count > 0 { copyTokens(from: range.lowerBound, count: range.count, into: buf.baseAddress!) }
            n = range.count
        }
    }

    /// All tokens as an array.
    public func allTokens() -> [Int32] { tokens(0..<count) }
}
