import Foundation
import Tensor

/// Builds a GGUF (version 3) file that llama.cpp and the Python `gguf` package load unchanged.
///
/// Metadata keeps insertion order and may hold any GGUF value (nested arrays included). Tensors are
/// given in PyTorch order (`shape` outermost first, stored reversed as GGUF dims) as floats and
/// encoded as F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0 or Q5_1 with llama.cpp's reference quantizers;
/// already-encoded tensors of any type (e.g. Q4_K copied from another file) are stored as given.
/// The data section starts at the first multiple of the alignment after the tensor directory, each
/// tensor starts at an aligned offset directly after the previous one (llama.cpp checks this), and
/// padding is zero bytes. `general.alignment` is written when the alignment is not 32.
///
///     var w = GGUFWriter()
///     w.setValue(.string("llama"), forKey: "general.architecture")
///     try w.addTensor("blk.0.attn_q.weight", shape: [576, 576], values: q, as: .q4_1)
///     try w.write(to: "model.gguf")
public struct GGUFWriter {
    /// One tensor, already encoded.
    struct Entry {
        let name: String
        /// GGUF order: innermost first.
        let dimensions: [Int]
        let type: GGMLType
        let bytes: [UInt8]
    }

    /// Data alignment in bytes (a power of two).
    public let alignment: Int
    /// Metadata in file order.
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    var entries: [Entry] = []
    var names: Set<String> = []

    /// The name used in errors raised before a path is known.
    static let source = "GGUF writer"

    /// A writer aligning tensor data to `alignment` bytes (a power of two; llama.cpp's default is 32).
    public init(alignment: Int = GGUFFile.defaultAlignment) throws {
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= Int(UInt32.max) else {
            throw IOError.invalidValue(file: GGUFWriter.source, offset: 0, key: "general.alignment",
                                       reason: "\(alignment) is not a positive power of two")
        }
        self.alignment = alignment
        if alignment != GGUFFile.defaultAlignment { metadata.append((key: "general.alignment", value: .uint32(UInt32(alignment)))) }
    }

    /// Sets `key` to `value`, replacing an earlier value in place (keeping its position).
    /// `general.alignment` is managed by the writer and cannot be set to another value.
    public mutating func setValue(_ value: GGUFValue, forKey key: String) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value
        } else {
            metadata.append((key: key, value: value))
        }
    }

    /// Names of the tensors added so far, in order.
    public var tensorNames: [String] { entries.map(\.name) }

    // MARK: tensors

    /// Adds a float tensor of PyTorch-order `shape`, encoded as `type` with the reference quantizer.
    /// The innermost dimension must be a whole number of `type`'s blocks.
    public mutating func addTensor(_ name: String, shape: [Int], values: UnsafeBufferPointer<Float>, as type: GGMLType) throws {
        let dims = try checkedDimensions(name, shape: shape, type: type)
        let count = dims.reduce(1, *)
        guard values.count == count else {
            throw IOError.invalidTensor(file: GGUFWriter.source, tensor: name,
                                        reason: "\(values.count) values do not match shape \(shape) (\(count) elements)")
        }
        guard type.canQuantize else {
            throw IOError.invalidTensor(file: GGUFWriter.source, tensor: name,
                                        reason: QuantizationError.cannotQuantize(type: type).description)
        }
        let bytes = try type.quantize(values)
        append(Entry(name: name, dimensions: dims, type: type, bytes: bytes))
    }

    /// Adds a float tensor of PyTorch-order `shape`, encoded as `type`.
    public mutating func addTensor(_ name: String, shape: [Int], values: [Float], as type: GGMLType) throws {
        try values.withUnsafeBufferPointer { try addTensor(name, shape: shape, values: $0, as: type) }
    }

    /// Adds a `Tensor` (its shape is PyTorch order), encoded as `type`.
    public mutating func addTensor(_ name: String, _ tensor: Tensor, as type: GGMLType = .f32) throws {
        try addTensor(name, shape: tensor.shape, values: UnsafeBufferPointer(tensor.buffer), as: type)
    }

    /// Adds an already-encoded tensor with GGUF-order `dimensions` (innermost first); the bytes must
    /// be exactly the encoding of that many values of `type`.
    public mutating func addEncodedTensor(_ name: String, dimensions: [Int], type: GGMLType, bytes: UnsafeRawBufferPointer) throws {
        let dims = try checkedDimensions(name, shape: dimensions.reversed(), type: type)
        let count = dims.reduce(1, *)
        let expected = type.byteCount(elements: count)!
        guard bytes.count == expected else {
            throw IOError.invalidTensor(file: GGUFWriter.source, tensor: name,
                                        reason: "\(bytes.count) bytes do not match \(count) values of \(type) (\(expected) bytes)")
        }
        append(Entry(name: name, dimensions: dims, type: type, bytes: Array(bytes)))
    }

    /// Copies tensor `name` of `file` unchanged (same type, dimensions and bytes), optionally renamed.
    public mutating func addTensor(copying name: String, from file: GGUFFile, as newName: String? = nil) throws {
        let info = try file.tensor(named: name)
        try addEncodedTensor(newName ?? name, dimensions: info.dimensions, type: info.type, bytes: file.tensorData(info))
    }

    /// Validates name and shape; returns GGUF-order dimensions.
    private func checkedDimensions(_ name: String, shape: [Int], type: GGMLType) throws -> [Int] {
        func fail(_ reason: String) -> IOError { .invalidTensor(file: GGUFWriter.source, tensor: name, reason: reason) }
        guard !name.isEmpty else { throw fail("tensor names must not be empty") }
        guard !names.contains(name) else { throw fail("a tensor of this name was already added") }
        guard shape.count <= GGUFFile.maxDimensions else { throw fail("shape \(shape) has more than \(GGUFFile.maxDimensions) dimensions") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("shape \(shape) has a negative dimension") }
        let dims = shape.isEmpty ? [1] : Array(shape.reversed())
        var count = 1
        for d in dims {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("shape \(shape) overflows") }
            count = p
        }
        guard dims[0] % type.blockSize == 0 else {
            throw fail("rows of \(dims[0]) values are not a whole number of \(type) blocks of \(type.blockSize)")
        }
        return dims
    }

    private mutating func append(_ entry: Entry) {
        names.insert(entry.name)
        entries.append(entry)
    }

    // MARK: output

    /// Offsets of each tensor relative to the data section, and the padded data size.
    private func layout() -> (offsets: [Int], size: Int) {
        var offsets: [Int] = []
        var cursor = 0
        for e in entries {
            offsets.append(cursor)
            cursor += e.bytes.count
            cursor = (cursor + alignment - 1) / alignment * alignment
        }
        return (offsets, cursor)
    }

    /// Header, metadata, tensor directory and padding up to the data section.
    private func header(path: String) throws -> Data {
        if let v = metadata.first(where: { $0.key == "general.alignment" })?.value, v != .uint32(UInt32(alignment)) {
            throw IOError.invalidValue(file: path, offset: 0, key: "general.alignment",
                                       reason: "metadata says \(v) but the writer aligns to \(alignment) (set it with GGUFWriter(alignment:))")
        }
        var enc = GGUFEncoder()
        enc.u32(GGUFFile.magic)
        enc.u32(3)
        enc.u64(UInt64(entries.count))
        enc.u64(UInt64(metadata.count))
        for (key, value) in metadata {
            enc.string(key)
            enc.u32(value.type.rawValue)
            try enc.value(value, key: key)
        }
        let (offsets, _) = layout()
        for (e, offset) in zip(entries, offsets) {
            enc.string(e.name)
            enc.u32(UInt32(e.dimensions.count))
            for d in e.dimensions { enc.u64(UInt64(d)) }
            enc.u32(e.type.rawValue)
            enc.u64(UInt64(offset))
        }
        enc.pad(to: alignment)
        return enc.data
    }

    /// The complete file in memory.
    public func encoded() throws -> Data {
        var out = try header(path: GGUFWriter.source)
        let dataStart = out.count
        for e in entries {
            out.append(contentsOf: e.bytes)
            let rem = (out.count - dataStart) % alignment
            if rem != 0 { out.append(Data(count: alignment - rem)) }
        }
        return out
    }

    /// Writes the file to `path` atomically (a temporary file renamed into place).
    public func write(to path: String) throws {
        let head = try header(path: path)
        try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: head)
            var written = 0
            for e in entries {
                try handle.write(contentsOf: e.bytes)
                written += e.bytes.count
                let rem = written % alignment
                if rem != 0 {
                    try handle.write(contentsOf: Data(count: alignment - rem))
                    written += alignment - rem
                }
            }
        }
    }
}
