import Foundation

/// A parsed GGUF (v2 or v3) file: header, metadata, tensor directory and data section.
///
/// The file is memory-mapped; tensor data is only located here: `tensorData(_:)` returns each
/// tensor's raw bytes, and `GGUFFile+TensorData.swift` decodes them (`floats`, `tensor`,
/// `quantizedMatrix`). Parsing validates everything it reads (magic, version, counts
/// against the file size, dimensions, types, alignment, data ranges) and throws `IOError` naming
/// the file and the offending value; corrupt input never traps or triggers a huge allocation.
public final class GGUFFile: @unchecked Sendable {
    /// The little-endian u32 magic: the bytes "GGUF".
    public static let magic: UInt32 = 0x4655_4747
    /// Alignment of the data section when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// Maximum number of tensor dimensions (ggml's GGML_MAX_DIMS).
    public static let maxDimensions = 4
    /// Maximum nesting depth accepted for array values.
    public static let maxArrayDepth = 16

    /// The path (or name) of the file, used in error messages.
    public let path: String
    /// The GGUF format version (2 or 3).
    public let version: Int
    /// All metadata values by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// The tensor directory in file order.
    public let tensors: [GGUFTensorInfo]
    /// The data-section alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Offset of the data section from the start of the file.
    public let dataOffset: Int
    private let file: MappedFile
    private let tensorIndex: [String: Int]

    /// Total file size in bytes.
    public var fileSize: Int { file.count }

    /// The mapped file: hold this (not the GGUFFile) to keep tensor bytes alive without keeping the
    /// parsed metadata (tens of thousands of token strings) in memory.
    public var mappedFile: MappedFile { file }

    /// Lets the pages of a tensor's data leave the resident set (after it has been copied elsewhere).
    public func releasePages(of info: GGUFTensorInfo) { file.releasePages(info.byteRange) }

    /// Opens, maps and parses the GGUF file at `path`.
    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    /// Parses GGUF bytes held in memory; `name` appears in error messages.
    public convenience init(data: Data, name: String = "<memory>") throws {
        try self.init(file: MappedFile(data: data, name: name))
    }

    /// Parses an already opened file.
    public init(file: MappedFile) throws {
        self.file = file
        self.path = file.path
        var r = ByteReader(file)
        let name = file.path

        let magicOffset = r.offset
        let magic = try r.readU32("GGUF magic")
        guard magic == GGUFFile.magic else {
            throw IOError.badMagic(file: name, expected: "\"GGUF\" (0x46554747)",
                                   found: GGUFFile.describeMagic(magic, at: magicOffset))
        }
        let rawVersion = try r.readU32("GGUF version")
        guard rawVersion == 2 || rawVersion == 3 else {
            throw IOError.unsupportedVersion(file: name, version: Int(rawVersion), supported: "2, 3")
        }
        version = Int(rawVersion)

        let tensorCountOffset = r.offset
        let tensorCount = try r.readU64("tensor count")
        let kvCountOffset = r.offset
        let kvCount = try r.readU64("metadata key-value count")
        // Each tensor info needs at least 8 (name length) + 4 + 4 + 8 bytes, each entry 8 + 4 + 1.
        guard tensorCount <= UInt64(r.remaining / 24) else {
            throw IOError.invalidValue(file: name, offset: tensorCountOffset, key: "tensor count",
                                       reason: "\(tensorCount) tensors cannot fit in a \(file.count)-byte file")
        }
        guard kvCount <= UInt64(r.remaining / 13) else {
            throw IOError.invalidValue(file: name, offset: kvCountOffset, key: "metadata key-value count",
                                       reason: "\(kvCount) entries cannot fit in a \(file.count)-byte file")
        }

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(Int(kvCount))
        for i in 0..<Int(kvCount) {
            let keyOffset = r.offset
            let key = try r.readGGUFString("metadata key #\(i)")
            guard metadata[key] == nil else {
                throw IOError.invalidValue(file: name, offset: keyOffset, key: key, reason: "duplicate metadata key")
            }
            let typeOffset = r.offset
            let rawType = try r.readU32("value type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw IOError.invalidValue(file: name, offset: typeOffset, key: key,
                                           reason: "unknown metadata value type \(rawType)")
            }
            metadata[key] = try GGUFFile.readValue(type, key: key, reader: &r, depth: 0)
            keys.append(key)
        }
        self.metadata = metadata
        self.metadataKeys = keys

        var alignment = GGUFFile.defaultAlignment
        if let a = metadata["general.alignment"] {
            guard case .uint32(let v) = a else {
                throw IOError.typeMismatch(file: name, key: "general.alignment", expected: "uint32", found: a.typeName)
            }
            guard v > 0, v & (v - 1) == 0 else {
                throw IOError.invalidValue(file: name, offset: 0, key: "general.alignment",
                                           reason: "\(v) is not a positive power of two")
            }
            alignment = Int(v)
        }
        self.alignment = alignment

        struct RawInfo { let name: String; let dims: [Int]; let type: GGMLType; let offset: Int; let elements: Int; let bytes: Int; let at: Int }
        var raw: [RawInfo] = []
        raw.reserveCapacity(Int(tensorCount))
        var index: [String: Int] = [:]
        for i in 0..<Int(tensorCount) {
            let at = r.offset
            let tname = try r.readGGUFString("name of tensor #\(i)")
            guard index[tname] == nil else {
                throw IOError.invalidValue(file: name, offset: at, key: "tensor '\(tname)'", reason: "duplicate tensor name")
            }
            let dimsOffset = r.offset
            let nDims = try r.readU32("dimension count of tensor '\(tname)'")
            guard nDims <= UInt32(GGUFFile.maxDimensions) else {
                throw IOError.invalidValue(file: name, offset: dimsOffset, key: "tensor '\(tname)'",
                                           reason: "\(nDims) dimensions (at most \(GGUFFile.maxDimensions) allowed)")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let dOffset = r.offset
                let dim = try r.readU64("dimension \(d) of tensor '\(tname)'")
                guard dim <= UInt64(Int64.max), let di = Int(exactly: dim) else {
                    throw IOError.invalidValue(file: name, offset: dOffset, key: "tensor '\(tname)'",
                                               reason: "dimension \(d) = \(dim) is too large")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: di)
                guard !overflow else {
                    throw IOError.invalidValue(file: name, offset: dOffset, key: "tensor '\(tname)'",
                                               reason: "element count overflows (dimensions \(dims + [di]))")
                }
                elements = product
                dims.append(di)
            }
            let typeOffset = r.offset
            let typeID = try r.readU32("ggml type of tensor '\(tname)'")
            guard let type = GGMLType(rawValue: typeID) else {
                throw IOError.unknownTensorType(file: name, tensor: tname, typeID: typeID)
            }
            guard (dims.first ?? 1) % type.blockSize == 0, let bytes = type.byteCount(elements: elements) else {
                throw IOError.invalidValue(file: name, offset: typeOffset, key: "tensor '\(tname)'",
                                           reason: "dimensions \(dims) are not a whole number of \(type) blocks of \(type.blockSize)")
            }
            let offOffset = r.offset
            let rel = try r.readU64("data offset of tensor '\(tname)'")
            guard rel <= UInt64(file.count), let relInt = Int(exactly: rel) else {
                throw IOError.invalidValue(file: name, offset: offOffset, key: "tensor '\(tname)'",
                                           reason: "data offset \(rel) is beyond the \(file.count)-byte file")
            }
            guard relInt % alignment == 0 else {
                throw IOError.invalidValue(file: name, offset: offOffset, key: "tensor '\(tname)'",
                                           reason: "data offset \(relInt) is not a multiple of the alignment \(alignment)")
            }
            index[tname] = i
            raw.append(RawInfo(name: tname, dims: dims, type: type, offset: relInt, elements: elements, bytes: bytes, at: offOffset))
        }

        let dataStart = GGUFFile.alignUp(r.offset, alignment)
        if !raw.isEmpty && dataStart > file.count {
            throw IOError.truncated(file: name, offset: r.offset, what: "padding before the tensor data section")
        }
        self.dataOffset = dataStart

        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(raw.count)
        let dataSize = file.count - min(dataStart, file.count)
        for t in raw {
            guard t.offset <= dataSize, t.bytes <= dataSize - t.offset else {
                throw IOError.invalidValue(file: name, offset: t.at, key: "tensor '\(t.name)'",
                    reason: "data [\(t.offset), \(t.offset) + \(t.bytes)) extends beyond the \(dataSize)-byte data section (file truncated?)")
            }
            infos.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type, relativeOffset: t.offset,
                                        absoluteOffset: dataStart + t.offset, elementCount: t.elements, byteCount: t.bytes))
        }
        self.tensors = infos
        self.tensorIndex = index
    }

    // MARK: - Values

    private static func readValue(_ type: GGUFValueType, key: String, reader r: inout ByteReader, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try r.readU8("value of '\(key)'"))
        case .int8: return .int8(try r.readI8("value of '\(key)'"))
        case .uint16: return .uint16(try r.readU16("value of '\(key)'"))
        case .int16: return .int16(try r.readI16("value of '\(key)'"))
        case .uint32: return .uint32(try r.readU32("value of '\(key)'"))
        case .int32: return .int32(try r.readI32("value of '\(key)'"))
        case .float32: return .float32(try r.readF32("value of '\(key)'"))
        case .bool: return .bool(try r.readBool("value of '\(key)'"))
        case .string: return .string(try r.readGGUFString("value of '\(key)'"))
        case .uint64: return .uint64(try r.readU64("value of '\(key)'"))
        case .int64: return .int64(try r.readI64("value of '\(key)'"))
        case .float64: return .float64(try r.readF64("value of '\(key)'"))
        case .array:
            guard depth < maxArrayDepth else {
                throw IOError.invalidValue(file: r.file, offset: r.offset, key: key,
                                           reason: "arrays nested deeper than \(maxArrayDepth) levels")
            }
            let typeOffset = r.offset
            let rawElement = try r.readU32("array element type of '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawElement) else {
                throw IOError.invalidValue(file: r.file, offset: typeOffset, key: key,
                                           reason: "unknown array element type \(rawElement)")
            }
            let countOffset = r.offset
            let count = try r.readU64("array length of '\(key)'")
            guard count <= UInt64(r.remaining / elementType.minimumEncodedSize) else {
                throw IOError.invalidValue(file: r.file, offset: countOffset, key: key,
                    reason: "array of \(count) \(elementType) values cannot fit in the \(r.remaining) bytes left")
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<Int(count) {
                values.append(try readValue(elementType, key: key, reader: &r, depth: depth + 1))
            }
            return .array(elementType: elementType, values: values)
        }
    }

    private static func alignUp(_ x: Int, _ a: Int) -> Int {
        let (sum, overflow) = x.addingReportingOverflow(a - 1)
        return overflow ? Int.max : (sum / a) * a
    }

    private static func describeMagic(_ m: UInt32, at offset: Int) -> String {
        let bytes = (0..<4).map { UInt8((m >> (8 * UInt32($0))) & 0xFF) }
        let text = bytes.map { (0x20...0x7E).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
        return String(format: "0x%08X (\"%@\")", m, text)
    }

    // MARK: - Metadata accessors

    /// The value stored under `key`, or throws `missingKey`.
    public func value(_ key: String) throws -> GGUFValue {
        guard let v = metadata[key] else { throw IOError.missingKey(file: path, key: key) }
        return v
    }

    /// Whether the metadata contains `key`.
    public func contains(_ key: String) -> Bool { metadata[key] != nil }

    /// A string value.
    public func string(_ key: String) throws -> String {
        let v = try value(key)
        guard let s = v.stringValue else { throw mismatch(key, "string", v) }
        return s
    }

    /// An integer value of any GGUF integer type (throws if it does not fit in `Int`).
    public func int(_ key: String) throws -> Int {
        let v = try value(key)
        guard let i = v.intValue else { throw mismatch(key, "integer", v) }
        return i
    }

    /// A floating-point value (float32 or float64).
    public func float(_ key: String) throws -> Double {
        let v = try value(key)
        guard let d = v.doubleValue else { throw mismatch(key, "float", v) }
        return d
    }

    /// A boolean value.
    public func bool(_ key: String) throws -> Bool {
        let v = try value(key)
        guard let b = v.boolValue else { throw mismatch(key, "bool", v) }
        return b
    }

    /// An array of strings.
    public func stringArray(_ key: String) throws -> [String] {
        let v = try value(key)
        guard case .array(.string, let values) = v else { throw mismatch(key, "array<string>", v) }
        return values.map { $0.stringValue! }
    }

    /// An array of integers (any GGUF integer element type).
    public func intArray(_ key: String) throws -> [Int] {
        let v = try value(key)
        guard case .array(_, let values) = v else { throw mismatch(key, "array<integer>", v) }
        var out: [Int] = []
        out.reserveCapacity(values.count)
        for e in values {
            guard let i = e.intValue else { throw mismatch(key, "array<integer>", v) }
            out.append(i)
        }
        return out
    }

    /// An array of floating-point numbers (float32 or float64 elements).
    public func floatArray(_ key: String) throws -> [Double] {
        let v = try value(key)
        guard case .array(_, let values) = v else { throw mismatch(key, "array<float>", v) }
        var out: [Double] = []
        out.reserveCapacity(values.count)
        for e in values {
            guard let d = e.doubleValue else { throw mismatch(key, "array<float>", v) }
            out.append(d)
        }
        return out
    }

    private func mismatch(_ key: String, _ expected: String, _ v: GGUFValue) -> IOError {
        .typeMismatch(file: path, key: key, expected: expected, found: v.typeName)
    }

    /// `general.architecture` (e.g. "llama").
    public var architecture: String? { metadata["general.architecture"]?.stringValue }

    // MARK: - Tensors

    /// The tensor named `name`, or throws `missingTensor`.
    public func tensor(named name: String) throws -> GGUFTensorInfo {
        guard let i = tensorIndex[name] else { throw IOError.missingTensor(file: path, name: name) }
        return tensors[i]
    }

    /// Whether a tensor named `name` exists.
    public func hasTensor(named name: String) -> Bool { tensorIndex[name] != nil }

    /// The raw (still encoded) bytes of a tensor. Valid while this `GGUFFile` is alive.
    public func tensorData(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[info.byteRange])
    }

    /// The raw bytes of the tensor named `name`.
    public func tensorData(named name: String) throws -> UnsafeRawBufferPointer {
        tensorData(try tensor(named: name))
    }
}
