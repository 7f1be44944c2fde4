import Foundation

/// Little-endian serialisation of GGUF header fields and metadata values (the inverse of the
/// reader's decoding in `GGUFFile`).
struct GGUFEncoder {
    private(set) var data = Data()

    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }

    /// A GGUF string: u64 byte length, then the UTF-8 bytes.
    mutating func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        data.append(contentsOf: Array(s.utf8))
    }

    /// Zero bytes up to the next multiple of `alignment` (counting from `base`).
    mutating func pad(to alignment: Int, base: Int = 0) {
        let rem = (data.count - base) % alignment
        if rem != 0 { data.append(Data(count: alignment - rem)) }
    }

    /// One metadata value's payload (without its type tag). Arrays must hold values of their
    /// declared element type; `key` names the entry in the error otherwise.
    mutating func value(_ v: GGUFValue, key: String) throws {
        func le<T: FixedWidthInteger>(_ x: T) { withUnsafeBytes(of: x.littleEndian) { data.append(contentsOf: $0) } }
        switch v {
        case .uint8(let x): le(x)
        case .int8(let x): le(x)
        case .uint16(let x): le(x)
        case .int16(let x): le(x)
        case .uint32(let x): le(x)
        case .int32(let x): le(x)
        case .float32(let x): le(x.bitPattern)
        case .bool(let x): le(UInt8(x ? 1 : 0))
        case .string(let s): string(s)
        case .uint64(let x): le(x)
        case .int64(let x): le(x)
        case .float64(let x): le(x.bitPattern)
        case .array(let elementType, let values):
            u32(elementType.rawValue)
            u64(UInt64(values.count))
            for e in values {
                guard e.type == elementType else {
                    throw IOError.invalidValue(file: "GGUF writer", offset: data.count, key: key,
                                               reason: "array declared as \(elementType) holds a \(e.typeName) value")
                }
                try value(e, key: key)
            }
        }
    }
}
