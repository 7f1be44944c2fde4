import Tensor

/// All parameters of a model in one contiguous buffer, with named, shaped views into it.
///
/// Gradients and optimizer moments use the same layout (`makeSibling()`), so zeroing, clipping,
/// all-reduce and checkpointing each touch one buffer. Names equal checkpoint keys.
public final class ParameterStore: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        /// Weight decay applies to matrices and embeddings, never to biases and norm parameters.
        public var decays: Bool { shape.count >= 2 }
    }

    public let entries: [Entry]
    public let buffer: AlignedBuffer<Float>
    private let index: [String: Int]

    public init(layout: [(String, [Int])]) {
        var entries: [Entry] = []
        var offset = 0
        for (name, shape) in layout {
            entries.append(Entry(name: name, shape: shape, offset: offset))
            // keep every tensor 16-float aligned so SIMD loads stay aligned
            offset += (shape.reduce(1, *) + 15) / 16 * 16
        }
        self.entries = entries
        self.buffer = AlignedBuffer<Float>(count: offset)
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() { index[e.name] = i }
        self.index = index
    }

    private init(entries: [Entry], index: [String: Int], count: Int) {
        self.entries = entries
        self.index = index
        self.buffer = AlignedBuffer<Float>(count: count)
    }

    /// A zero-filled store with the same names, shapes and offsets (for gradients, moments).
    public func makeSibling() -> ParameterStore { ParameterStore(entries: entries, index: index, count: buffer.count) }

    public var parameterCount: Int { entries.reduce(0) { $0 + $1.count } }

    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The named tensor as a view into the buffer (traps on an unknown name: names are fixed by the model).
    public subscript(name: String) -> Tensor {
        guard let i = index[name] else { preconditionFailure("no parameter named \(name)") }
        let e = entries[i]
        return Tensor(view: buffer, offset: e.offset, shape: e.shape)
    }

    public func pointer(_ name: String) -> UnsafeMutablePointer<Float> { self[name].pointer }

    /// The named view, or a thrown error naming the parameter.
    public func tensor(_ name: String) throws -> Tensor {
        guard index[name] != nil else { throw TensorError.invalidArgument("no parameter named '\(name)'") }
        return self[name]
    }

    /// Copies all values from a store of identical layout.
    public func copy(from other: ParameterStore) throws {
        guard other.entries == entries else { throw TensorError.shapeMismatch("parameter layouts differ") }
        buffer.pointer.update(from: other.buffer.pointer, count: buffer.count)
    }
}
