import Foundation
import Tensor

/// A safetensors file: u64 little-endian header length, a JSON header mapping tensor names to
/// dtype, shape (row major) and byte range, then the data. Memory-mapped and validated: ranges must
/// lie in the data section and tile it without gaps or overlaps.
public final class SafetensorsFile: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        public let begin: Int
        public let end: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let entries: [String: Entry]
    /// Tensor names in file order (by data offset).
    public let names: [String]
    public let metadata: [String: String]
    let file: MappedFile
    let dataStart: Int

    static let elementSizes: [String: Int] = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    public convenience init(path: String) throws {
        try self.init(file: try MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let path = file.path
        self.path = path
        var reader = ByteReader(file)
        let headerLength = try reader.readU64("safetensors header length")
        guard headerLength <= UInt64(reader.remaining), headerLength <= 100_000_000 else {
            throw IOError.invalidValue(file: path, offset: 0, key: "header length", reason: "\(headerLength) bytes exceeds the file (\(file.count) bytes)")
        }
        let headerBytes = try reader.readBytes(Int(headerLength), "safetensors JSON header")
        let dataStart = 8 + Int(headerLength)
        self.dataStart = dataStart
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes))
        } catch {
            throw IOError.invalidValue(file: path, offset: 8, key: "header", reason: "not valid JSON")
        }
        guard let dict = json as? [String: Any] else {
            throw IOError.invalidValue(file: path, offset: 8, key: "header", reason: "JSON header is not an object")
        }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        let dataLength = file.count - dataStart
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw IOError.invalidValue(file: path, offset: 8, key: "__metadata__", reason: "must be an object of strings")
                }
                for (k, v) in m {
                    guard let s = v as? String else { throw IOError.invalidValue(file: path, offset: 8, key: "__metadata__.\(k)", reason: "value is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any], let offsAny = info["data_offsets"] as? [Any], offsAny.count == 2 else {
                throw IOError.invalidValue(file: path, offset: 8, key: name, reason: "entry needs dtype, shape and two data_offsets")
            }
            guard let size = SafetensorsFile.elementSizes[dtype] else {
                throw IOError.invalidValue(file: path, offset: 8, key: name, reason: "unsupported dtype \(dtype)")
            }
            let shape = try shapeAny.map { v -> Int in
                guard let n = (v as? NSNumber)?.intValue, n >= 0, n < 1 << 40 else {
                    throw IOError.invalidValue(file: path, offset: 8, key: name, reason: "bad shape \(shapeAny)")
                }
                return n
            }
            let offs = try offsAny.map { v -> Int in
                guard let n = (v as? NSNumber)?.intValue, n >= 0 else {
                    throw IOError.invalidValue(file: path, offset: 8, key: name, reason: "bad data_offsets \(offsAny)")
                }
                return n
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d); return (p, acc.1 || o)
            }
            guard !overflow, offs[0] <= offs[1], offs[1] <= dataLength else {
                throw IOError.invalidValue(file: path, offset: dataStart + offs[0], key: name,
                                           reason: "data range \(offs[0])..<\(offs[1]) lies outside the data section of \(dataLength) bytes")
            }
            guard offs[1] - offs[0] == count * size else {
                throw IOError.invalidValue(file: path, offset: dataStart + offs[0], key: name,
                                           reason: "byte size \(offs[1] - offs[0]) does not match shape \(shape) of \(dtype) (\(count * size) bytes)")
            }
            entries[name] = Entry(name: name, dtype: dtype, shape: shape, begin: offs[0], end: offs[1])
        }
        let sorted = entries.values.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        for e in sorted where e.end > e.begin {
            guard e.begin == expected else {
                throw IOError.invalidValue(file: path, offset: dataStart + e.begin, key: e.name,
                                           reason: e.begin < expected ? "overlaps the previous tensor" : "leaves a gap before it")
            }
            expected = e.end
        }
        self.entries = entries
        self.names = sorted.map(\.name)
        self.metadata = metadata
    }

    public func entry(_ name: String) throws -> Entry {
        guard let e = entries[name] else { throw IOError.missingTensor(file: path, name: name) }
        return e
    }

    /// Raw bytes of a tensor.
    public func bytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let e = try entry(name)
        return UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + e.begin)..<(dataStart + e.end)])
    }

    /// A floating-point tensor (F32, F16, BF16, F64) converted to float32.
    public func floats(_ name: String) throws -> [Float] {
        let e = try entry(name)
        let raw = try bytes(name)
        var out = [Float](repeating: 0, count: e.count)
        switch e.dtype {
        case "F32": for i in 0..<e.count { out[i] = raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case "F16": for i in 0..<e.count { out[i] = HalfConversion.halfBitsToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case "BF16": for i in 0..<e.count { out[i] = HalfConversion.bfloat16BitsToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case "F64": for i in 0..<e.count { out[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        default: throw IOError.typeMismatch(file: path, key: name, expected: "a float dtype", found: e.dtype)
        }
        return out
    }

    /// An integer tensor (I32, I64, I16, I8, U8) converted to Int32.
    public func int32s(_ name: String) throws -> [Int32] {
        let e = try entry(name)
        let raw = try bytes(name)
        switch e.dtype {
        case "I32": return (0..<e.count).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self) }
        case "I64": return (0..<e.count).map { Int32(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case "I16": return (0..<e.count).map { Int32(raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
        case "I8": return (0..<e.count).map { Int32(raw.load(fromByteOffset: $0, as: Int8.self)) }
        case "U8": return (0..<e.count).map { Int32(raw.load(fromByteOffset: $0, as: UInt8.self)) }
        default: throw IOError.typeMismatch(file: path, key: name, expected: "an integer dtype", found: e.dtype)
        }
    }

    /// A float tensor as a `Tensor` with its stored shape.
    public func tensor(_ name: String) throws -> Tensor {
        let e = try entry(name)
        return try Tensor(shape: e.shape, values: try floats(name))
    }
}
