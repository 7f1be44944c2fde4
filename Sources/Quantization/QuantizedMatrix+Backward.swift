import Tensor

/// The product with respect to the input, dx[N, columns] += dy[N, rows] W (for gradients through a
/// frozen quantized weight, as in QLoRA).
///
/// W is split into column tiles (whole blocks, `tuning.backwardTileColumns` wide); each tile is
/// decoded `tuning.backwardRowChunk` rows at a time into a per-thread buffer and accumulated into its
/// own columns of dx with sgemm, so column tiles run in parallel without sharing output.
extension QuantizedMatrix {
    /// dx[N, columns] += dy[N, rows] W.
    public func backwardInput(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>,
                              isa: KernelISA = .best) {
        if n <= 0 || rows == 0 || columns == 0 { return }
        if type == .f32 {
            BLAS.gemm(m: n, n: columns, k: rows, a: dy, b: floatPointer, beta: 1, c: dx)
            return
        }
        let block = type.blockSize
        let width = tuning.backwardTileWidth(columns: columns, blockSize: block, threads: Parallel.threadCount)
        let tiles = (columns + width - 1) / width
        let chunk = Swift.max(1, Swift.min(rows, tuning.backwardRowChunk))
        let body = { (range: Range<Int>) in
            let buffer = AlignedBuffer<Float>(count: chunk * width)
            for t in range {
                let c0 = t * width, c1 = Swift.min(self.columns, c0 + width)
                var r0 = 0
                while r0 < self.rows {
                    let r1 = Swift.min(self.rows, r0 + chunk)
                    self.dequantizeBlock(rows: r0..<r1, columns: c0..<c1, into: buffer.pointer, isa: isa)
                    BLAS.gemm(m: n, n: c1 - c0, k: r1 - r0, a: dy + r0, lda: self.rows, b: buffer.pointer, ldb: c1 - c0,
                              beta: 1, c: dx + c0, ldc: self.columns)
                    r0 = r1
                }
            }
        }
        if Parallel.threadCount > 1 && tiles > 1 {
            BLAS.singleThreaded { Parallel.forEachChunk(tiles, body) }
        } else {
            body(0..<tiles)
        }
    }
}
