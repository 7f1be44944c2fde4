import Foundation
import Tensor

/// A weight matrix W [rows = out features, columns = in features] kept in its stored ggml form
/// (Q8_0, Q4_0, Q4_1, F16, F32, and for decoding also BF16, Q5_x, Q4_K, Q6_K).
///
/// The bytes are either borrowed (e.g. a memory-mapped GGUF tensor, kept alive through `owner`) or
/// owned. Row r occupies `rowBytes` bytes starting at `rowBytes * r`; blocks run along a row, as in
/// ggml. The products in `QuantizedMatrix+Forward.swift` and `+Backward.swift` never expand the
/// whole matrix: matrix-vector products decode on the fly, larger products decode small tiles.
public final class QuantizedMatrix: @unchecked Sendable {
    /// The storage type.
    public let type: GGMLType
    /// Number of rows (output features).
    public let rows: Int
    /// Number of columns (input features); a multiple of `type.blockSize`.
    public let columns: Int
    /// Bytes per row.
    public let rowBytes: Int
    /// The encoded matrix, `rows * rowBytes` bytes.
    public let data: UnsafeRawBufferPointer
    /// Blocking and threading of the products.
    public let tuning: QuantizedMatrixTuning
    /// The default activation handling of matrix-vector products.
    public let gemvActivations: GEMVActivations
    /// Keeps borrowed or owned bytes alive.
    let owner: AnyObject?

    /// Bytes the weight occupies.
    public var storageBytes: Int { data.count }
    /// The shape [rows, columns] (PyTorch's [out, in]).
    public var shape: [Int] { [rows, columns] }

    /// Wraps encoded bytes without copying; `owner` must keep them alive and unchanged. Bytes whose
    /// address is not aligned to the element size of F32/F16/BF16 data are copied instead.
    public init(type: GGMLType, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer, owner: AnyObject?,
                gemvActivations: GEMVActivations = .int8, tuning: QuantizedMatrixTuning = .default) throws {
        guard rows >= 0, columns >= 0 else {
            throw QuantizationError.shapeMismatch("negative matrix shape [\(rows), \(columns)]")
        }
        guard columns % type.blockSize == 0 else {
            throw QuantizationError.notBlockMultiple(type: type, count: columns)
        }
        let (elements, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, let expected = type.byteCount(elements: elements) else {
            throw QuantizationError.shapeMismatch("matrix [\(rows), \(columns)] is too large")
        }
        guard bytes.count == expected else {
            throw QuantizationError.byteCountMismatch(type: type, elements: elements, expected: expected, actual: bytes.count)
        }
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = type.rowByteCount(columns: columns)
        self.gemvActivations = gemvActivations
        self.tuning = tuning
        let elementAlignment = type.isQuantized ? 1 : type.typeSize
        if let base = bytes.baseAddress, Int(bitPattern: base) % elementAlignment != 0 {
            let copy = AlignedBuffer<UInt8>(count: bytes.count)
            UnsafeMutableRawPointer(copy.pointer).copyMemory(from: base, byteCount: bytes.count)
            self.data = UnsafeRawBufferPointer(start: copy.pointer, count: bytes.count)
            self.owner = copy
        } else {
            self.data = bytes
            self.owner = owner
        }
    }

    /// Copies encoded bytes into owned, 64-byte aligned storage.
    public convenience init(type: GGMLType, rows: Int, columns: Int, copying bytes: UnsafeRawBufferPointer,
                            gemvActivations: GEMVActivations = .int8, tuning: QuantizedMatrixTuning = .default) throws {
        let copy = AlignedBuffer<UInt8>(count: bytes.count)
        if let base = bytes.baseAddress, bytes.count > 0 {
            UnsafeMutableRawPointer(copy.pointer).copyMemory(from: base, byteCount: bytes.count)
        }
        try self.init(type: type, rows: rows, columns: columns, bytes: UnsafeRawBufferPointer(start: copy.pointer, count: bytes.count),
                      owner: copy, gemvActivations: gemvActivations, tuning: tuning)
    }

    /// Encodes a float matrix [rows, columns] (row-major) with the reference quantizer of `type`.
    public convenience init(quantizing weights: UnsafePointer<Float>, rows: Int, columns: Int, as type: GGMLType,
                            gemvActivations: GEMVActivations = .int8, tuning: QuantizedMatrixTuning = .default) throws {
        guard columns % type.blockSize == 0 else { throw QuantizationError.notBlockMultiple(type: type, count: columns) }
        guard type.canQuantize else { throw QuantizationError.cannotQuantize(type: type) }
        let rowBytes = type.rowByteCount(columns: columns)
        let copy = AlignedBuffer<UInt8>(count: rows * rowBytes)
        for r in 0..<rows {
            try type.quantizeRowReference(weights + r * columns, into: UnsafeMutableRawPointer(copy.pointer) + r * rowBytes, count: columns)
        }
        try self.init(type: type, rows: rows, columns: columns, bytes: UnsafeRawBufferPointer(start: copy.pointer, count: copy.count),
                      owner: copy, gemvActivations: gemvActivations, tuning: tuning)
    }

    /// Encodes a 2-D float tensor [out, in] with the reference quantizer of `type`.
    public convenience init(quantizing weights: Tensor, as type: GGMLType, gemvActivations: GEMVActivations = .int8,
                            tuning: QuantizedMatrixTuning = .default) throws {
        guard weights.rank == 2 else { throw QuantizationError.shapeMismatch("a weight matrix is 2-D, got \(weights.shape)") }
        try self.init(quantizing: weights.pointer, rows: weights.shape[0], columns: weights.shape[1], as: type,
                      gemvActivations: gemvActivations, tuning: tuning)
    }

    /// The same bytes with other product settings (no copy).
    public func with(gemvActivations: GEMVActivations? = nil, tuning: QuantizedMatrixTuning? = nil) -> QuantizedMatrix {
        QuantizedMatrix(sharing: self, gemvActivations: gemvActivations ?? self.gemvActivations, tuning: tuning ?? self.tuning)
    }

    /// A view of `other`'s validated bytes with other settings.
    private init(sharing other: QuantizedMatrix, gemvActivations: GEMVActivations, tuning: QuantizedMatrixTuning) {
        type = other.type
        rows = other.rows
        columns = other.columns
        rowBytes = other.rowBytes
        data = other.data
        owner = other.owner ?? other
        self.gemvActivations = gemvActivations
        self.tuning = tuning
    }

    // MARK: rows

    /// The encoded bytes of row `r`.
    @inline(__always)
    public func rowPointer(_ r: Int) -> UnsafeRawPointer { data.baseAddress! + r * rowBytes }

    /// Decodes row `r` (`columns` floats) into `out`, e.g. an embedding lookup.
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>, isa: KernelISA = .best) {
        precondition(r >= 0 && r < rows, "row \(r) outside 0..<\(rows)")
        type.dequantizeRow(rowPointer(r), into: out, count: columns, isa: isa)
    }

    /// Decodes rows `range` into `out` ([range.count, columns] row-major).
    public func dequantizeRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>, isa: KernelISA = .best) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        if range.isEmpty || columns == 0 { return }
        // Rows are contiguous, so a run of rows is one run of blocks.
        type.dequantizeRow(rowPointer(range.lowerBound), into: out, count: range.count * columns, isa: isa)
    }

    /// Decodes columns `cols` (block-aligned) of rows `range` into `out` with row stride `cols.count`.
    func dequantizeBlock(rows range: Range<Int>, columns cols: Range<Int>, into out: UnsafeMutablePointer<Float>, isa: KernelISA) {
        let skip = cols.lowerBound / type.blockSize * type.typeSize
        for (i, r) in range.enumerated() {
            type.dequantizeRow(rowPointer(r) + skip, into: out + i * cols.count, count: cols.count, isa: isa)
        }
    }

    /// The whole matrix as floats (explicit full expansion, for tests and conversions).
    public func dequantized(reference: Bool = false) -> Tensor {
        let t = Tensor(zeros: [rows, columns])
        if reference {
            for r in 0..<rows { type.dequantizeRowReference(rowPointer(r), into: t.pointer + r * columns, count: columns) }
        } else {
            dequantizeRows(0..<rows, into: t.pointer)
        }
        return t
    }
}
