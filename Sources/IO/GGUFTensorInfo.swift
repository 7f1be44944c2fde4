/// Where one tensor lives in a GGUF file and how it is stored.
public struct GGUFTensorInfo: Equatable, Sendable {
    /// The tensor's name, e.g. "blk.0.attn_q.weight".
    public let name: String
    /// Dimensions in ggml order: `dimensions[0]` is the innermost (fastest varying).
    public let dimensions: [Int]
    /// The storage type.
    public let type: GGMLType
    /// Offset of the data relative to the start of the data section, as stored in the file.
    public let relativeOffset: Int
    /// Offset of the data from the start of the file.
    public let absoluteOffset: Int
    /// Number of elements (product of the dimensions).
    public let elementCount: Int
    /// Number of bytes the data occupies.
    public let byteCount: Int

    /// The byte range of the data within the file.
    public var byteRange: Range<Int> { absoluteOffset..<(absoluteOffset + byteCount) }

    /// Dimensions outermost first (the PyTorch / row-major order).
    public var rowMajorShape: [Int] { dimensions.reversed() }
}
