import CQuantKernels
import Tensor

/// Matrix-vector products of several activation vectors at once (one per sequence of a batch, or
/// per position of several prompts): the weights are read from memory once for all of them, and
/// each decoded weight block serves up to eight vectors.
extension QuantizedMatrix {
    /// For each of the first `vectors` vectors v of `x`: y[v * ldy + r] = (W x_v)[r] for the rows r in
    /// `range` (y indexed by absolute row), on the calling thread (Q4_0, Q4_1, Q8_0). Each value is
    /// bit-for-bit what `gemv(quantized:rows:into:)` gives for the same range and vector. For callers
    /// that split the rows over their own parallel region; rows are best split in multiples of 4.
    public func gemm(quantized x: Q8ActivationBatch, vectors: Int, rows range: Range<Int>, into y: UnsafeMutablePointer<Float>,
                     ldy: Int, isa: KernelISA = .best) {
        precondition(x.count == columns, "activations have \(x.count) values, the matrix \(columns) columns")
        precondition(vectors >= 0 && vectors <= x.capacity, "\(vectors) vectors asked of a batch of \(x.capacity)")
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        precondition(ldy >= rows, "output stride \(ldy) is shorter than the \(rows) rows")
        if range.isEmpty || vectors == 0 { return }
        let kernel: (UnsafePointer<UInt8>, Int64, Int64, Int64, UnsafePointer<Int8>, UnsafePointer<Float>, UnsafePointer<Float>,
                     UnsafePointer<Float>, UnsafePointer<Float>, Int64, Int64, UnsafeMutablePointer<Float>, Int64, Int32) -> Void
        switch type {
        case .q4_0: kernel = fq_gemm_q4_0_q8
        case .q4_1: kernel = fq_gemm_q4_1_q8
        case .q8_0: kernel = fq_gemm_q8_0_q8
        default: preconditionFailure("integer matrix-vector products need Q4_0, Q4_1 or Q8_0 weights, not \(type)")
        }
        kernel(bytePointer(range.lowerBound), Int64(rowBytes), Int64(range.count), Int64(columns / 32), x.values, x.scales, x.sums,
               x.transposedScales, x.transposedSums, Int64(x.capacity), Int64(vectors), y + range.lowerBound, Int64(ldy), isa.code)
    }
}
