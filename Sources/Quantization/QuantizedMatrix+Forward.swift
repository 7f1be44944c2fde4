import CQuantKernels
import Tensor

/// The forward product y[N, rows] = x[N, columns] W^T.
///
/// N <= `tuning.gemvMaxBatch`: one matrix-vector product per input row, decoding W on the fly
/// (integer dot products against 8-bit activations for Q4_0/Q4_1/Q8_0 when `gemvActivations` is
/// `.int8`, float32 multiply-adds otherwise), split over threads by output rows.
/// Larger N: tiles of W rows are decoded into a small per-thread float buffer and multiplied with
/// sgemm, tiles in parallel with OpenBLAS single-threaded (`tuning.parallelTiles`).
extension QuantizedMatrix {
    /// out[N, rows] = x[N, columns] W^T.
    public func forward(_ x: UnsafePointer<Float>, rows n: Int, into out: UnsafeMutablePointer<Float>, isa: KernelISA = .best) {
        if n <= 0 || rows == 0 { return }
        if columns == 0 { out.update(repeating: 0, count: n * rows); return }
        if type == .f32 {
            BLAS.gemm(transB: true, m: n, n: rows, k: columns, a: x, b: floatPointer, c: out)
            return
        }
        if n <= tuning.gemvMaxBatch {
            for i in 0..<n { gemv(x + i * columns, into: out + i * rows, isa: isa) }
            return
        }
        forwardTiled(x, rows: n, into: out, isa: isa)
    }

    /// y[rows] = W x for one vector of `columns` floats, with the matrix's `gemvActivations` unless
    /// `activations` overrides it.
    public func gemv(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, activations: GEMVActivations? = nil,
                     isa: KernelISA = .best) {
        if rows == 0 { return }
        if (activations ?? gemvActivations) == .int8 && type.hasIntegerKernel {
            gemv(quantized: Q8Activations(x, count: columns, isa: isa), into: y, isa: isa)
            return
        }
        switch type {
        case .q4_0, .q4_1, .q8_0, .f16:
            let nb = Int64(type == .f16 ? columns : columns / 32)
            let kernel: (UnsafePointer<UInt8>, Int64, Int64, Int64, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int32) -> Void
            switch type {
            case .q4_0: kernel = fq_gemv_q4_0_f32
            case .q4_1: kernel = fq_gemv_q4_1_f32
            case .q8_0: kernel = fq_gemv_q8_0_f32
            default: kernel = fq_gemv_f16_f32
            }
            forEachRowChunk { r in
                kernel(bytePointer(r.lowerBound), Int64(rowBytes), Int64(r.count), nb, x, y + r.lowerBound, isa.code)
            }
        case .f32:
            BLAS.gemm(transB: true, m: 1, n: rows, k: columns, a: x, b: floatPointer, c: y)
        default:
            // Formats without a fused kernel: decode one row at a time and take a SIMD dot product.
            forEachRowChunk { r in
                let buffer = AlignedBuffer<Float>(count: columns)
                for row in r {
                    type.dequantizeRow(rowPointer(row), into: buffer.pointer, count: columns, isa: isa)
                    y[row] = Kernels.dot(buffer.pointer, x, count: columns)
                }
            }
        }
    }

    /// y[rows] = W x for activations already quantized with `Q8Activations` (Q4_0, Q4_1, Q8_0 only).
    public func gemv(quantized x: Q8Activations, into y: UnsafeMutablePointer<Float>, isa: KernelISA = .best) {
        precondition(x.count == columns, "activations have \(x.count) values, the matrix \(columns) columns")
        let kernel: (UnsafePointer<UInt8>, Int64, Int64, Int64, UnsafePointer<Int8>, UnsafePointer<Float>, UnsafePointer<Float>,
                     UnsafeMutablePointer<Float>, Int32) -> Void
        switch type {
        case .q4_0: kernel = fq_gemv_q4_0_q8
        case .q4_1: kernel = fq_gemv_q4_1_q8
        case .q8_0: kernel = fq_gemv_q8_0_q8
        default: preconditionFailure("integer matrix-vector products need Q4_0, Q4_1 or Q8_0 weights, not \(type)")
        }
        let nb = Int64(columns / 32)
        x.values.withUnsafeBufferPointer { q in x.scales.withUnsafeBufferPointer { d in x.sums.withUnsafeBufferPointer { s in
            let (qp, dp, sp) = (q.baseAddress!, d.baseAddress!, s.baseAddress!)
            forEachRowChunk { r in
                kernel(bytePointer(r.lowerBound), Int64(rowBytes), Int64(r.count), nb, qp, dp, sp, y + r.lowerBound, isa.code)
            }
        } } }
    }

    /// y[r] = (W x)[r] for the rows r in `range` only (y indexed by absolute row), on the calling
    /// thread, for activations in a `Q8ActivationBuffer` (Q4_0, Q4_1, Q8_0). For callers that split
    /// one product, or several, over their own parallel region. Rows are best split in multiples of 4.
    public func gemv(quantized x: Q8ActivationBuffer, rows range: Range<Int>, into y: UnsafeMutablePointer<Float>, isa: KernelISA = .best) {
        precondition(x.count == columns, "activations have \(x.count) values, the matrix \(columns) columns")
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        if range.isEmpty { return }
        let kernel: (UnsafePointer<UInt8>, Int64, Int64, Int64, UnsafePointer<Int8>, UnsafePointer<Float>, UnsafePointer<Float>,
                     UnsafeMutablePointer<Float>, Int32) -> Void
        switch type {
        case .q4_0: kernel = fq_gemv_q4_0_q8
        case .q4_1: kernel = fq_gemv_q4_1_q8
        case .q8_0: kernel = fq_gemv_q8_0_q8
        default: preconditionFailure("integer matrix-vector products need Q4_0, Q4_1 or Q8_0 weights, not \(type)")
        }
        kernel(bytePointer(range.lowerBound), Int64(rowBytes), Int64(range.count), Int64(columns / 32), x.values, x.scales, x.sums,
               y + range.lowerBound, isa.code)
    }

    // MARK: helpers

    /// The data as floats (F32 matrices only; the initialiser guarantees alignment).
    var floatPointer: UnsafePointer<Float> { data.baseAddress!.assumingMemoryBound(to: Float.self) }

    /// The encoded bytes of row `r` as bytes.
    @inline(__always)
    func bytePointer(_ r: Int) -> UnsafePointer<UInt8> { rowPointer(r).assumingMemoryBound(to: UInt8.self) }

    /// Splits the output rows over threads when the matrix is large enough to pay for it.
    func forEachRowChunk(_ body: (Range<Int>) -> Void) {
        let perThread = Swift.max(1, tuning.gemvMinValuesPerThread / Swift.max(columns, 1))
        Parallel.forEachChunk(rows, minPerThread: perThread, body)
    }
}
