import Tensor

/// A frozen weight matrix [rows, columns] whose batched products decode small float tiles on the fly
/// and multiply them with sgemm (NF4 and int8-row matrices; `QuantizedMatrix` does the same for the
/// ggml types). Conformers supply the tile decoder; the extension supplies the products.
protocol TileDecodedMatrix: AnyObject {
    var rows: Int { get }
    var columns: Int { get }
    var tuning: QuantizedMatrixTuning { get }
    /// Column tiles of the input-gradient product start and end at multiples of this.
    var columnGranule: Int { get }
    /// Decodes rows `rows` restricted to columns `columns` into `out` (row stride `columns.count`).
    func decodeTile(rows: Range<Int>, columns: Range<Int>, into out: UnsafeMutablePointer<Float>, isa: KernelISA)
}

extension TileDecodedMatrix {
    /// out[N, rows] = x[N, columns] W^T: tiles of whole W rows (about `tuning.forwardTileFloats`
    /// floats each), each decoded into a per-thread buffer and multiplied with sgemm; tiles run in
    /// parallel with single-threaded OpenBLAS, or one after another with threaded OpenBLAS when
    /// `tuning.parallelTiles` is off.
    func forwardTiled(_ x: UnsafePointer<Float>, rows n: Int, into out: UnsafeMutablePointer<Float>, isa: KernelISA) {
        if usesBlockInt16(contraction: columns) { forwardBlockInt16(x, rows: n, into: out, isa: isa); return }
        let parallel = tuning.parallelTiles && Parallel.threadCount > 1
        let tileRows = tuning.forwardTileRows(rows: rows, columns: columns, threads: parallel ? Parallel.threadCount : 1)
        let tiles = (rows + tileRows - 1) / tileRows
        let body = { (range: Range<Int>) in
            let buffer = AlignedBuffer<Float>(count: tileRows * self.columns)
            for t in range {
                let r0 = t * tileRows, r1 = Swift.min(self.rows, r0 + tileRows)
                self.decodeTile(rows: r0..<r1, columns: 0..<self.columns, into: buffer.pointer, isa: isa)
                BLAS.gemm(transB: true, m: n, n: r1 - r0, k: self.columns, a: x, b: buffer.pointer, c: out + r0, ldc: self.rows)
            }
        }
        if parallel && tiles > 1 {
            BLAS.singleThreaded { Parallel.forEachChunk(tiles, body) }
        } else {
            body(0..<tiles)
        }
    }

    /// Batches of at least this many rows take `backwardRowChunked` in the input-gradient product (a
    /// threaded sgemm splits N x columns evenly; measured at N = 1024 on SmolLM2 shapes it reaches the
    /// dense sgemm's speed, while column tiles lose up to 10% to tiles that do not divide evenly).
    static var rowChunkedMinBatch: Int { 64 }

    /// dx[N, columns] += dy[N, rows] W: `backwardBlockInt16` under that arithmetic, otherwise
    /// `backwardRowChunked` or `backwardTiled` by batch size.
    func backwardProduct(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>, isa: KernelISA) {
        if usesBlockInt16(contraction: rows) {
            backwardBlockInt16(dy, rows: n, accumulateInto: dx, isa: isa)
        } else if n >= Self.rowChunkedMinBatch {
            backwardRowChunked(dy, rows: n, accumulateInto: dx, isa: isa)
        } else {
            backwardTiled(dy, rows: n, accumulateInto: dx, isa: isa)
        }
    }

    /// dx[N, columns] += dy[N, rows] W for smaller N: column tiles (about `tuning.backwardTileColumns` wide, whole
    /// granules) in parallel, each decoded `tuning.backwardRowChunk` rows at a time and accumulated
    /// into its own columns of dx with single-threaded sgemm.
    func backwardTiled(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>, isa: KernelISA) {
        let width = tuning.backwardTileWidth(columns: columns, blockSize: columnGranule, threads: Parallel.threadCount)
        let tiles = (columns + width - 1) / width
        let chunk = Swift.max(1, Swift.min(rows, tuning.backwardRowChunk))
        let body = { (range: Range<Int>) in
            let buffer = AlignedBuffer<Float>(count: chunk * width)
            for t in range {
                let c0 = t * width, c1 = Swift.min(self.columns, c0 + width)
                var r0 = 0
                while r0 < self.rows {
                    let r1 = Swift.min(self.rows, r0 + chunk)
                    self.decodeTile(rows: r0..<r1, columns: c0..<c1, into: buffer.pointer, isa: isa)
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

    /// dx[N, columns] += dy[N, rows] W for large N: chunks of whole W rows (at most
    /// `tuning.backwardRowChunk` rows and, for at least 16 rows, at most `tuning.forwardTileFloats`
    /// floats) are decoded one after another into one buffer and accumulated with threaded sgemm
    /// (m = N, n = columns, k = chunk rows), so the threads split N x columns evenly whatever the block size.
    func backwardRowChunked(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>, isa: KernelISA) {
        let budget = Swift.max(16, tuning.forwardTileFloats / Swift.max(columns, 1))
        let chunk = Swift.max(1, Swift.min(rows, tuning.backwardRowChunk, budget))
        let buffer = AlignedBuffer<Float>(count: chunk * columns)
        var r0 = 0
        while r0 < rows {
            let r1 = Swift.min(rows, r0 + chunk)
            decodeTile(rows: r0..<r1, columns: 0..<columns, into: buffer.pointer, isa: isa)
            BLAS.gemm(m: n, n: columns, k: r1 - r0, a: dy + r0, lda: rows, b: buffer.pointer, ldb: columns, beta: 1, c: dx, ldc: columns)
            r0 = r1
        }
    }

    /// Splits `rows` output rows over threads when there are at least `tuning.gemvMinValuesPerThread`
    /// weights per thread.
    func forEachRowChunk(_ body: (Range<Int>) -> Void) {
        let perThread = Swift.max(1, tuning.gemvMinValuesPerThread / Swift.max(columns, 1))
        Parallel.forEachChunk(rows, minPerThread: perThread, body)
    }
}
