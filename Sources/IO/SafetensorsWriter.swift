import Foundation
import Tensor

/// Writes safetensors files (F32, F16 or BF16 data) atomically.
public struct SafetensorsWriter {
    public enum DType: String, Sendable { case f32 = "F32", f16 = "F16", bf16 = "BF16" }

    struct Item { let name: String; let shape: [Int]; let values: UnsafeBufferPointer<Float>; let owner: Any }

    var items: [Item] = []
    public var metadata: [String: String] = [:]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds a tensor (the data is read when `write` runs; keep the tensor alive until then).
    public mutating func add(_ name: String, _ tensor: Tensor) {
        items.append(Item(name: name, shape: tensor.shape, values: UnsafeBufferPointer(tensor.buffer), owner: tensor.storage))
    }

    public mutating func add(_ name: String, shape: [Int], values: [Float]) throws {
        let t = try Tensor(shape: shape, values: values)
        add(name, t)
    }

    /// Writes all tensors in insertion order with the given element type.
    public func write(to path: String, dtype: DType = .f32) throws {
        var seen = Set<String>()
        for item in items where !seen.insert(item.name).inserted {
            throw IOError.writeFailed(path: path, reason: "duplicate tensor name \(item.name)")
        }
        let size = dtype == .f32 ? 4 : 2
        var header: [String: Any] = [:]
        var offset = 0
        for item in items {
            let bytes = item.values.count * size
            header[item.name] = ["dtype": dtype.rawValue, "shape": item.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var prefix = Data(count: 8)
        prefix.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(json.count).littleEndian, as: UInt64.self) }
        try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: prefix + json)
            for item in items {
                var chunk = Data(capacity: item.values.count * size)
                switch dtype {
                case .f32: item.values.withMemoryRebound(to: UInt8.self) { chunk.append($0) }
                case .f16:
                    for v in item.values { withUnsafeBytes(of: HalfConversion.floatToHalfBits(v).littleEndian) { chunk.append(contentsOf: $0) } }
                case .bf16:
                    for v in item.values { withUnsafeBytes(of: HalfConversion.floatToBFloat16Bits(v).littleEndian) { chunk.append(contentsOf: $0) } }
                }
                try handle.write(contentsOf: chunk)
            }
        }
    }
}
