import CQuantKernels
import Foundation
import Tensor

/// A weight matrix W [rows = out features, columns = in features] stored as int8 with one float32
/// scale per row (absmax quantization, as bitsandbytes' row-wise int8 weights): scale = absmax / 127,
/// code = round-to-nearest-even(w / scale) in [-127, 127], value = code * scale. 8 bits per weight
/// plus 32 bits per row. The products (`Int8RowMatrix+Products.swift`) decode rows or small tiles on
/// the fly and never expand the whole matrix.
public final class Int8RowMatrix: @unchecked Sendable {
    /// Number of rows (output features).
    public let rows: Int
    /// Number of columns (input features).
    public let columns: Int
    /// Blocking and threading of the products (the same knobs as `QuantizedMatrix`).
    public let tuning: QuantizedMatrixTuning

    let codeBuffer: AlignedBuffer<Int8>
    let scaleBuffer: AlignedBuffer<Float>

    /// The codes, row-major [rows, columns].
    public var codes: UnsafeBufferPointer<Int8> { UnsafeBufferPointer(codeBuffer.buffer) }
    /// One scale per row.
    public var scales: UnsafeBufferPointer<Float> { UnsafeBufferPointer(scaleBuffer.buffer) }
    /// The shape [rows, columns] (PyTorch's [out, in]).
    public var shape: [Int] { [rows, columns] }
    /// Bytes the weight occupies: codes and row scales.
    public var storageBytes: Int { codeBuffer.count + 4 * scaleBuffer.count }

    /// Encodes a float matrix [rows, columns] (row-major). Throws when a weight is not finite.
    public convenience init(quantizing weights: UnsafePointer<Float>, rows: Int, columns: Int,
                            tuning: QuantizedMatrixTuning = .default) throws {
        guard rows >= 0, columns >= 0 else { throw QuantizationError.shapeMismatch("negative matrix shape [\(rows), \(columns)]") }
        guard !rows.multipliedReportingOverflow(by: columns).overflow else {
            throw QuantizationError.shapeMismatch("matrix [\(rows), \(columns)] is too large")
        }
        if let i = (0..<(rows * columns)).first(where: { !weights[$0].isFinite }) {
            throw QuantizationError.shapeMismatch("int8 weights must be finite, got \(weights[i]) at row \(i / columns), column \(i % columns)")
        }
        let codes = AlignedBuffer<Int8>(count: rows * columns)
        let scales = AlignedBuffer<Float>(count: rows)
        Parallel.forEachChunk(rows, minPerThread: max(1, 16384 / max(columns, 1))) { range in
            for r in range { scales[r] = Self.encodeRow(weights + r * columns, count: columns, into: codes.pointer + r * columns) }
        }
        self.init(rows: rows, columns: columns, codes: codes, scales: scales, tuning: tuning)
    }

    /// Encodes a 2-D float tensor [out, in].
    public convenience init(quantizing weights: Tensor, tuning: QuantizedMatrixTuning = .default) throws {
        guard weights.rank == 2 else { throw QuantizationError.shapeMismatch("an int8 weight matrix is 2-D, got \(weights.shape)") }
        try self.init(quantizing: weights.pointer, rows: weights.shape[0], columns: weights.shape[1], tuning: tuning)
    }

    init(rows: Int, columns: Int, codes: AlignedBuffer<Int8>, scales: AlignedBuffer<Float>, tuning: QuantizedMatrixTuning) {
        self.rows = rows
        self.columns = columns
        self.codeBuffer = codes
        self.scaleBuffer = scales
        self.tuning = tuning
    }

    /// The same codes with other product settings (no copy).
    public func with(tuning: QuantizedMatrixTuning) -> Int8RowMatrix {
        Int8RowMatrix(rows: rows, columns: columns, codes: codeBuffer, scales: scaleBuffer, tuning: tuning)
    }

    /// Quantizes one row and returns its scale (0 for an all-zero row).
    static func encodeRow(_ x: UnsafePointer<Float>, count: Int, into q: UnsafeMutablePointer<Int8>) -> Float {
        var absmax: Float = 0
        for j in 0..<count { absmax = max(absmax, abs(x[j])) }
        let scale = absmax / 127
        for j in 0..<count {
            let v = scale > 0 ? (x[j] / scale).rounded(.toNearestOrEven) : 0
            q[j] = Int8(min(max(v, -127), 127))
        }
        return scale
    }

    // MARK: decoding

    /// Decodes rows `range` into `out` ([range.count, columns] row-major).
    public func dequantizeRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>, isa: KernelISA = .best) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        decodeTile(rows: range, columns: 0..<columns, into: out, isa: isa)
    }

    /// Decodes row `r` with plain Swift (the reference the kernels are tested against).
    public func dequantizeRowReference(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        for j in 0..<columns { out[j] = Float(codeBuffer[r * columns + j]) * scaleBuffer[r] }
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
}
