import CQuantKernels
import Tensor

/// The products of an int8-row weight: y = x W^T (forward) and dx += dy W (gradient with respect to
/// the input). N <= `tuning.gemvMaxBatch`: matrix-vector products that convert codes in registers,
/// split over threads by output rows; larger N: decoded tiles into sgemm (`TileDecodedMatrix`).
extension Int8RowMatrix: TileDecodedMatrix {
    var columnGranule: Int { 32 }

    /// out[N, rows] = x[N, columns] W^T.
    public func forward(_ x: UnsafePointer<Float>, rows n: Int, into out: UnsafeMutablePointer<Float>, isa: KernelISA = .best) {
        if n <= 0 || rows == 0 { return }
        if columns == 0 { out.update(repeating: 0, count: n * rows); return }
        if n <= tuning.gemvMaxBatch {
            for i in 0..<n { gemv(x + i * columns, into: out + i * rows, isa: isa) }
            return
        }
        forwardTiled(x, rows: n, into: out, isa: isa)
    }

    /// y[rows] = W x for one vector of `columns` floats.
    public func gemv(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, isa: KernelISA = .best) {
        if rows == 0 { return }
        let (q, s, n) = (codeBuffer.pointer, scaleBuffer.pointer, columns)
        forEachRowChunk { r in
            fq_gemv_i8_f32(q + r.lowerBound * n, Int64(n), s + r.lowerBound, Int64(r.count), Int64(n), x, y + r.lowerBound, isa.code)
        }
    }

    /// dx[N, columns] += dy[N, rows] W.
    public func backwardInput(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>,
                              isa: KernelISA = .best) {
        if n <= 0 || rows == 0 || columns == 0 { return }
        backwardProduct(dy, rows: n, accumulateInto: dx, isa: isa)
    }

    func decodeTile(rows range: Range<Int>, columns cols: Range<Int>, into out: UnsafeMutablePointer<Float>, isa: KernelISA) {
        if range.isEmpty || cols.isEmpty { return }
        fq_dequantize_i8_rows(codeBuffer.pointer + range.lowerBound * columns + cols.lowerBound, Int64(columns),
                              scaleBuffer.pointer + range.lowerBound, Int64(range.count), Int64(cols.count),
                              out, Int64(cols.count), isa.code)
    }
}
