import CQuantKernels
import Tensor

/// The products of an NF4 weight: y = x W^T (forward) and dx += dy W (gradient with respect to the
/// input, for a frozen base weight as in QLoRA).
///
/// N <= `tuning.gemvMaxBatch`: one matrix-vector product per input row, decoding codes in registers
/// (AVX2 table lookups), split over threads by output rows. Larger N: small tiles of W are decoded
/// into float buffers and multiplied with sgemm (`TileDecodedMatrix`).
extension NF4Matrix: TileDecodedMatrix {
    var columnGranule: Int { Self.blockSize }

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
        if columns == 0 { y.update(repeating: 0, count: rows); return }
        let nbr = Int64(blocksPerRow)
        withState { s in
            forEachRowChunk { r in fq_gemv_nf4_f32(s, nbr, Int64(r.lowerBound), Int64(r.count), x, y, isa.code) }
        }
    }

    /// dx[N, columns] += dy[N, rows] W.
    public func backwardInput(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>,
                              isa: KernelISA = .best) {
        if n <= 0 || rows == 0 || columns == 0 { return }
        backwardProduct(dy, rows: n, accumulateInto: dx, isa: isa)
    }

    func decodeTile(rows range: Range<Int>, columns cols: Range<Int>, into out: UnsafeMutablePointer<Float>, isa: KernelISA) {
        if cols.count == columns {
            dequantizeRows(range, into: out, isa: isa)
            return
        }
        let nbr = blocksPerRow, first = cols.lowerBound / Self.blockSize, nb = Int64(cols.count / Self.blockSize)
        withState { s in
            for (i, r) in range.enumerated() {
                fq_dequantize_nf4(s, Int64(r * nbr + first), nb, out + i * cols.count, isa.code)
            }
        }
    }
}
