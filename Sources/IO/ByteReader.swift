/// A bounds-checked little-endian cursor over a byte region.
///
/// Every read checks that enough bytes remain and otherwise throws `IOError.truncated` naming the
/// file, the offset and what was being read; the reader never traps on malformed input.
/// The reader keeps its `MappedFile` (if any) alive.
public struct ByteReader {
    /// The file name used in error messages.
    public let file: String
    /// The region being read.
    public let bytes: UnsafeRawBufferPointer
    /// The current read position, in bytes from the start of `bytes`.
    public private(set) var offset: Int
    private let owner: AnyObject?

    /// A reader over the whole of `mapped`, starting at `offset`.
    public init(_ mapped: MappedFile, offset: Int = 0) {
        self.file = mapped.path
        self.bytes = mapped.bytes
        self.offset = offset
        self.owner = mapped
    }

    /// A reader over raw bytes that the caller keeps alive.
    public init(bytes: UnsafeRawBufferPointer, file: String, offset: Int = 0) {
        self.file = file
        self.bytes = bytes
        self.offset = offset
        self.owner = nil
    }

    /// Bytes left after the current offset.
    public var remaining: Int { bytes.count - offset }
    /// Whether the cursor is at the end.
    public var isAtEnd: Bool { offset >= bytes.count }

    /// Throws `truncated` unless `count` more bytes are available.
    public func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw IOError.truncated(file: file, offset: offset, what: "\(what()) (\(count) bytes needed, \(max(remaining, 0)) left)")
        }
    }

    /// Moves the cursor to an absolute offset within the region.
    public mutating func seek(to newOffset: Int, _ what: @autoclosure () -> String = "seek target") throws {
        guard newOffset >= 0, newOffset <= bytes.count else {
            throw IOError.truncated(file: file, offset: newOffset, what: what())
        }
        offset = newOffset
    }

    /// Advances the cursor by `count` bytes.
    public mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws {
        try require(count, what())
        offset += count
    }

    /// Reads a little-endian integer of type `T`.
    @inline(__always)
    public mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        try require(size, what())
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    // Fixed-width little-endian integers; `what` names the value in error messages.
    public mutating func readU8(_ what: @autoclosure () -> String) throws -> UInt8 { try read(UInt8.self, what()) }
    public mutating func readI8(_ what: @autoclosure () -> String) throws -> Int8 { try read(Int8.self, what()) }
    public mutating func readU16(_ what: @autoclosure () -> String) throws -> UInt16 { try read(UInt16.self, what()) }
    public mutating func readI16(_ what: @autoclosure () -> String) throws -> Int16 { try read(Int16.self, what()) }
    public mutating func readU32(_ what: @autoclosure () -> String) throws -> UInt32 { try read(UInt32.self, what()) }
    public mutating func readI32(_ what: @autoclosure () -> String) throws -> Int32 { try read(Int32.self, what()) }
    public mutating func readU64(_ what: @autoclosure () -> String) throws -> UInt64 { try read(UInt64.self, what()) }
    public mutating func readI64(_ what: @autoclosure () -> String) throws -> Int64 { try read(Int64.self, what()) }

    /// Reads a little-endian IEEE float32.
    public mutating func readF32(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    /// Reads a little-endian IEEE float64.
    public mutating func readF64(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// Reads a one-byte boolean; any value other than 0 or 1 is rejected.
    public mutating func readBool(_ what: @autoclosure () -> String) throws -> Bool {
        let at = offset
        let b = try read(UInt8.self, what())
        guard b <= 1 else {
            throw IOError.invalidValue(file: file, offset: at, key: what(), reason: "boolean byte is \(b), expected 0 or 1")
        }
        return b == 1
    }

    /// Reads a GGUF string: a u64 byte length followed by that many UTF-8 bytes (no terminator).
    public mutating func readGGUFString(_ what: @autoclosure () -> String) throws -> String {
        let at = offset
        let length = try read(UInt64.self, "length of \(what())")
        guard length <= UInt64(remaining) else {
            throw IOError.truncated(file: file, offset: at,
                                    what: "\(what()) (string length \(length) exceeds the \(remaining) bytes left)")
        }
        let n = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        let utf8 = slice.bindMemory(to: UInt8.self)
        let s = String(decoding: utf8, as: UTF8.self)
        // Decoding repairs invalid sequences; an unchanged byte sequence means the input was valid.
        guard s.utf8.count == n, s.utf8.elementsEqual(utf8) else {
            throw IOError.invalidValue(file: file, offset: at, key: what(), reason: "string is not valid UTF-8")
        }
        offset += n
        return s
    }

    /// Returns the next `count` bytes as a region without copying, and advances past them.
    public mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try require(count, what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }
}
