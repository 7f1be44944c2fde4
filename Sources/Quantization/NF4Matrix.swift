import CQuantKernels
import Foundation
import Tensor

/// A weight matrix W [rows = out features, columns = in features] in QLoRA's NF4 format, as
/// bitsandbytes stores it with `quantize_4bit(..., blocksize=64, quant_type="nf4",
/// compress_statistics=True)`:
///
/// * each row is cut into blocks of 64 input features (blocks run row-major over the whole matrix);
///   every value is a 4-bit index into the 16 `NF4Codebook.levels`, two per byte (even column in the
///   high nibble), relative to its block's absmax scale;
/// * double quantization: the block scales minus their mean (`offset`) are stored as 8-bit indices
///   into `NF4Codebook.dynamicMap`, relative to one float32 absmax per group of 256 consecutive blocks.
///
/// A value decodes as `levels[code] * (dynamicMap[scaleCode] * groupScale + offset)`, which is
/// 4 + 8/64 + 32/(64*256) ≈ 4.127 bits per weight. The products (`NF4Matrix+Products.swift`) never
/// expand the whole matrix; they decode rows or small tiles on the fly.
public final class NF4Matrix: @unchecked Sendable {
    /// Input features per block (one absmax scale each).
    public static let blockSize = 64
    /// Consecutive blocks whose 8-bit scale codes share one float32 scale.
    public static let scaleGroupSize = 256

    /// Number of rows (output features).
    public let rows: Int
    /// Number of columns (input features), a multiple of `blockSize`.
    public let columns: Int
    /// Blocking and threading of the products (the same knobs as `QuantizedMatrix`).
    public let tuning: QuantizedMatrixTuning
    /// The value added to every decoded block scale (the mean of the original block scales).
    public let offset: Float

    let packed: AlignedBuffer<UInt8>
    let scaleCodeBuffer: AlignedBuffer<UInt8>
    let groupScaleBuffer: AlignedBuffer<Float>

    /// Blocks per row.
    public var blocksPerRow: Int { columns / Self.blockSize }
    /// Blocks in the matrix.
    public var blockCount: Int { rows * blocksPerRow }
    /// The packed 4-bit codes, 32 bytes per block.
    public var packedCodes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(packed.buffer) }
    /// One 8-bit scale code per block.
    public var scaleCodes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(scaleCodeBuffer.buffer) }
    /// One float32 scale per group of 256 blocks.
    public var groupScales: UnsafeBufferPointer<Float> { UnsafeBufferPointer(groupScaleBuffer.buffer) }
    /// The shape [rows, columns] (PyTorch's [out, in]).
    public var shape: [Int] { [rows, columns] }
    /// Bytes the weight occupies: codes, scale codes, group scales and the offset.
    public var storageBytes: Int { packed.count + scaleCodeBuffer.count + 4 * groupScaleBuffer.count + 4 }
    /// Storage bits per weight (about 4.127).
    public var bitsPerWeight: Double { rows * columns == 0 ? 0 : Double(8 * storageBytes) / Double(rows * columns) }

    /// Encodes a float matrix [rows, columns] (row-major) as bitsandbytes does: per block the nearest
    /// level of each value scaled by 1/absmax, then the double quantization of the block scales.
    /// Throws when `columns` is not a multiple of 64 or a weight is not finite.
    public convenience init(quantizing weights: UnsafePointer<Float>, rows: Int, columns: Int,
                            tuning: QuantizedMatrixTuning = .default) throws {
        try Self.validateShape(rows: rows, columns: columns)
        let packed = AlignedBuffer<UInt8>(count: rows * columns / 2)
        let absmax = AlignedBuffer<Float>(count: rows * columns / Self.blockSize)
        try NF4Encoder.encodeBlocks(weights, rows: rows, columns: columns, packed: packed.pointer, absmax: absmax.pointer)
        let scales = NF4Encoder.doubleQuantize(UnsafeBufferPointer(absmax.buffer))
        self.init(rows: rows, columns: columns, packed: packed, scaleCodes: scales.codes, groupScales: scales.groupScales,
                  offset: scales.offset, tuning: tuning)
    }

    /// Encodes a 2-D float tensor [out, in].
    public convenience init(quantizing weights: Tensor, tuning: QuantizedMatrixTuning = .default) throws {
        guard weights.rank == 2 else { throw QuantizationError.shapeMismatch("an NF4 weight matrix is 2-D, got \(weights.shape)") }
        try self.init(quantizing: weights.pointer, rows: weights.shape[0], columns: weights.shape[1], tuning: tuning)
    }

    /// Wraps an existing double-quantized NF4 state (bitsandbytes' packed weight, `absmax` codes,
    /// `state2.absmax` and `offset`), copying it. Throws when a part has the wrong length.
    public convenience init(rows: Int, columns: Int, packedCodes: [UInt8], scaleCodes: [UInt8], groupScales: [Float],
                            offset: Float, tuning: QuantizedMatrixTuning = .default) throws {
        try Self.validateShape(rows: rows, columns: columns)
        let blocks = rows * columns / Self.blockSize
        let groups = (blocks + Self.scaleGroupSize - 1) / Self.scaleGroupSize
        for (name, actual, expected) in [("packed codes", packedCodes.count, rows * columns / 2), ("scale codes", scaleCodes.count, blocks),
                                         ("group scales", groupScales.count, groups)] where actual != expected {
            throw QuantizationError.shapeMismatch("NF4 matrix [\(rows), \(columns)] needs \(expected) \(name), got \(actual)")
        }
        self.init(rows: rows, columns: columns, packed: Self.buffer(packedCodes), scaleCodes: Self.buffer(scaleCodes),
                  groupScales: Self.buffer(groupScales), offset: offset, tuning: tuning)
    }

    init(rows: Int, columns: Int, packed: AlignedBuffer<UInt8>, scaleCodes: AlignedBuffer<UInt8>,
         groupScales: AlignedBuffer<Float>, offset: Float, tuning: QuantizedMatrixTuning) {
        self.rows = rows
        self.columns = columns
        self.packed = packed
        self.scaleCodeBuffer = scaleCodes
        self.groupScaleBuffer = groupScales
        self.offset = offset
        self.tuning = tuning
    }

    /// The same codes with other product settings (no copy).
    public func with(tuning: QuantizedMatrixTuning) -> NF4Matrix {
        NF4Matrix(rows: rows, columns: columns, packed: packed, scaleCodes: scaleCodeBuffer, groupScales: groupScaleBuffer,
                  offset: offset, tuning: tuning)
    }

    // MARK: decoding

    /// The decoded scale of block `b`: dynamicMap[code] * groupScale + offset (float32, unfused).
    @inline(__always)
    public func blockScale(_ b: Int) -> Float {
        NF4Codebook.dynamicMap[Int(scaleCodeBuffer[b])] * groupScaleBuffer[b / Self.scaleGroupSize] + offset
    }

    /// The 4-bit code of element (row, column).
    public func code(row: Int, column: Int) -> Int {
        let byte = packed[(row * columns + column) / 2]
        return Int(column % 2 == 0 ? byte >> 4 : byte & 0x0F)
    }

    /// Decodes rows `range` into `out` ([range.count, columns] row-major).
    public func dequantizeRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>, isa: KernelISA = .best) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        if range.isEmpty || columns == 0 { return }
        withState { s in fq_dequantize_nf4(s, Int64(range.lowerBound * blocksPerRow), Int64(range.count * blocksPerRow), out, isa.code) }
    }

    /// Decodes row `r` with plain Swift (the reference the kernels are tested against).
    public func dequantizeRowReference(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        for j in 0..<columns {
            out[j] = NF4Codebook.levels[code(row: r, column: j)] * blockScale(r * blocksPerRow + j / Self.blockSize)
        }
    }

    /// The whole matrix as floats (explicit full expansion, for tests and conversions).
    public func dequantized(reference: Bool = false) -> Tensor {
        let t = Tensor(zeros: [rows, columns])
        if reference {
            for r in 0..<rows { dequantizeRowReference(r, into: t.pointer + r * columns) }
        } else {
            dequantizeRows(0..<rows, into: t.pointer)
        }
        return t
    }

    /// Calls `body` with the C kernels' view of this matrix.
    @inline(__always)
    func withState<R>(_ body: (UnsafePointer<fq_nf4_state>) -> R) -> R {
        var state = fq_nf4_state(packed: packed.pointer, scale_codes: scaleCodeBuffer.pointer, map: Self.mapTable.pointer,
                                 group_scales: groupScaleBuffer.pointer, levels: Self.levelTable.pointer, offset: offset)
        return withUnsafePointer(to: &state) { body($0) }
    }

    // MARK: helpers

    static let mapTable = buffer(NF4Codebook.dynamicMap)
    static let levelTable = buffer(NF4Codebook.levels)

    static func buffer<T>(_ values: [T]) -> AlignedBuffer<T> {
        let b = AlignedBuffer<T>(count: values.count)
        for (i, v) in values.enumerated() { b.pointer[i] = v }
        return b
    }

    static func validateShape(rows: Int, columns: Int) throws {
        guard rows >= 0, columns >= 0 else { throw QuantizationError.shapeMismatch("negative matrix shape [\(rows), \(columns)]") }
        guard columns % blockSize == 0 else {
            throw QuantizationError.shapeMismatch("NF4 needs a column count that is a multiple of \(blockSize), got [\(rows), \(columns)]")
        }
        let (_, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow else { throw QuantizationError.shapeMismatch("matrix [\(rows), \(columns)] is too large") }
    }
}
