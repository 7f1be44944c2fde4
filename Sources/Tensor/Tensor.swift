/// A contiguous, row-major float32 tensor backed by aligned storage.
///
/// A tensor is a view: several tensors can share one `AlignedBuffer` at different offsets (the named
/// parameter views of a model are tensors into its single parameter buffer). Copying a `Tensor` copies
/// the view, not the data.
public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: AlignedBuffer<Float>
    public let offset: Int

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer + offset }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// A new zero-filled tensor with its own storage.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.storage = AlignedBuffer<Float>(count: shape.reduce(1, *))
        self.offset = 0
    }

    /// A view of `shape` into `storage` starting at `offset`.
    public init(view storage: AlignedBuffer<Float>, offset: Int, shape: [Int]) {
        precondition(offset >= 0 && offset + shape.reduce(1, *) <= storage.count, "view \(shape) at \(offset) exceeds storage of \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.offset = offset
    }

    public init(shape: [Int], values: [Float]) throws {
        guard shape.reduce(1, *) == values.count else {
            throw TensorError.shapeMismatch("\(values.count) values for shape \(shape)")
        }
        self.init(zeros: shape)
        for i in 0..<values.count { storage.pointer[i] = values[i] }
    }

    public static func normal(_ shape: [Int], std: Float, rng: inout RandomGenerator) -> Tensor {
        let t = Tensor(zeros: shape)
        rng.fillNormal(t.buffer, std: std)
        return t
    }

    public static func uniform(_ shape: [Int], low: Float = -1, high: Float = 1, rng: inout RandomGenerator) -> Tensor {
        let t = Tensor(zeros: shape)
        rng.fillUniform(t.buffer, low: low, high: high)
        return t
    }

    /// The same data seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.reduce(1, *) == count else {
            throw TensorError.shapeMismatch("cannot reshape \(shape) to \(newShape)")
        }
        return Tensor(view: storage, offset: offset, shape: newShape)
    }

    /// A deep copy with its own storage.
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    public var array: [Float] { Array(buffer) }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        nonmutating set { pointer[i] = newValue }
    }

    public func fill(_ value: Float) { buffer.update(repeating: value) }
    public func zero() { buffer.update(repeating: 0) }
}
