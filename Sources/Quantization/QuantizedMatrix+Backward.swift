import Tensor

/// The product with respect to the input, dx[N, columns] += dy[N, rows] W (for gradients through a
/// frozen quantized weight, as in QLoRA).
///
/// W is split into column tiles of whole blocks, each decoded a few rows at a time into a per-thread
/// buffer and accumulated into its own columns of dx with sgemm, so column tiles run in parallel
/// without sharing output (`TileDecodedMatrix.backwardTiled`, the loop NF4 and int8 matrices use).
extension QuantizedMatrix {
    /// dx[N, columns] += dy[N, rows] W.
    public func backwardInput(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>,
                              isa: KernelISA = .best) {
        if n <= 0 || rows == 0 || columns == 0 { return }
        if type == .f32 {
            BLAS.gemm(m: n, n: columns, k: rows, a: dy, b: floatPointer, beta: 1, c: dx)
            return
        }
        if usesBlockInt16(contraction: rows) {
            backwardBlockInt16(dy, rows: n, accumulateInto: dx, isa: isa)
        } else {
            backwardTiled(dy, rows: n, accumulateInto: dx, isa: isa)
        }
    }
}

/// The ggml types as tile-decoded matrices: tiles are decoded block-aligned by `dequantizeBlock`, so the
/// tiled forward and input-gradient products are the ones NF4 and int8 matrices use.
extension QuantizedMatrix: TileDecodedMatrix {
    var columnGranule: Int { type.blockSize }

    func decodeTile(rows: Range<Int>, columns: Range<Int>, into out: UnsafeMutablePointer<Float>, isa: KernelISA) {
        // whole rows are one contiguous run of blocks: decode them in one call
        if columns == 0..<self.columns { dequantizeRows(rows, into: out, isa: isa) } else { dequantizeBlock(rows: rows, columns: columns, into: out, isa: isa) }
    }
}
