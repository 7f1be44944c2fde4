import Foundation

/// Writes GGUF files in memory for tests, independently of the parser under test: every field is
/// laid out by hand following the GGUF v3 specification (little-endian, u64 string lengths,
/// tensor data aligned to `alignment` relative to the start of the data section).
public struct GGUFBuilder {
    /// A metadata value with its GGUF type tag.
    public indirect enum Value {
        case u8(UInt8), i8(Int8), u16(UInt16), i16(Int16), u32(UInt32), i32(Int32), f32(Float), bool(Bool)
        case string(String)
        /// An array: element type tag and elements (nested arrays use tag 9).
        case array(UInt32, [Value])
        case u64(UInt64), i64(Int64), f64(Double)
        /// A raw type tag followed by raw payload bytes (for malformed files).
        case raw(UInt32, [UInt8])

        public var tag: UInt32 {
            switch self {
            case .u8: return 0
            case .i8: return 1
            case .u16: return 2
            case .i16: return 3
            case .u32: return 4
            case .i32: return 5
            case .f32: return 6
            case .bool: return 7
            case .string: return 8
            case .array: return 9
            case .u64: return 10
            case .i64: return 11
            case .f64: return 12
            case .raw(let t, _): return t
            }
        }
    }

    /// One tensor: dims innermost first, ggml type id, raw data, and an optional forced offset.
    public struct TensorSpec {
        public var name: String
        public var dims: [UInt64]
        public var type: UInt32
        public var data: [UInt8]
        public var offsetOverride: UInt64?

        public init(name: String, dims: [UInt64], type: UInt32, data: [UInt8], offsetOverride: UInt64? = nil) {
            self.name = name; self.dims = dims; self.type = type; self.data = data; self.offsetOverride = offsetOverride
        }
    }

    public var magic: [UInt8] = Array("GGUF".utf8)
    public var version: UInt32 = 3
    public var metadata: [(String, Value)] = []
    public var tensors: [TensorSpec] = []
    /// Alignment used to place tensor data (write `general.alignment` yourself to change the parser's).
    public var alignment = 32
    /// Overrides for the header counts (to forge corrupt files).
    public var tensorCountOverride: UInt64?
    public var metadataCountOverride: UInt64?

    public init() {}

    public static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }

    public static func string(_ s: String) -> [UInt8] {
        le(UInt64(s.utf8.count)) + Array(s.utf8)
    }

    static func payload(_ v: Value) -> [UInt8] {
        switch v {
        case .u8(let x): return le(x)
        case .i8(let x): return le(x)
        case .u16(let x): return le(x)
        case .i16(let x): return le(x)
        case .u32(let x): return le(x)
        case .i32(let x): return le(x)
        case .f32(let x): return le(x.bitPattern)
        case .bool(let x): return [x ? 1 : 0]
        case .string(let s): return string(s)
        case .array(let t, let values):
            var out = le(t) + le(UInt64(values.count))
            for e in values { out += payload(e) }
            return out
        case .u64(let x): return le(x)
        case .i64(let x): return le(x)
        case .f64(let x): return le(x.bitPattern)
        case .raw(_, let bytes): return bytes
        }
    }

    /// The file bytes.
    public func build() -> Data {
        var out = magic
        out += GGUFBuilder.le(version)
        out += GGUFBuilder.le(tensorCountOverride ?? UInt64(tensors.count))
        out += GGUFBuilder.le(metadataCountOverride ?? UInt64(metadata.count))
        for (k, v) in metadata {
            out += GGUFBuilder.string(k) + GGUFBuilder.le(v.tag) + GGUFBuilder.payload(v)
        }
        var offsets: [UInt64] = []
        var cursor = 0
        for t in tensors {
            offsets.append(UInt64(cursor))
            cursor += t.data.count
            cursor = (cursor + alignment - 1) / alignment * alignment
        }
        for (i, t) in tensors.enumerated() {
            out += GGUFBuilder.string(t.name) + GGUFBuilder.le(UInt32(t.dims.count))
            for d in t.dims { out += GGUFBuilder.le(d) }
            out += GGUFBuilder.le(t.type) + GGUFBuilder.le(t.offsetOverride ?? offsets[i])
        }
        if !tensors.isEmpty {
            while out.count % alignment != 0 { out.append(0) }
            let dataStart = out.count
            for (i, t) in tensors.enumerated() {
                while out.count < dataStart + Int(offsets[i]) { out.append(0) }
                out += t.data
            }
            while (out.count - dataStart) % alignment != 0 { out.append(0) }
        }
        return Data(out)
    }
}
