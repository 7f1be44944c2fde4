import CQuantKernels

/// Reusable storage for several vectors of Q8 activations (the format of `Q8Activations`), one per
/// sequence of a batch (or position of several prompts), for `QuantizedMatrix.gemm(quantized:...)`:
/// values, scales and sums vector after vector, and the scales and sums also transposed (block
/// after block, the vectors' values side by side) so that a weight block meets several vectors'
/// scales in one load.
///
/// Vectors are quantized one at a time, and calls for different vectors may run concurrently. The
/// storage grows to the largest number of vectors asked for and is then reused.
public final class Q8ActivationBatch: @unchecked Sendable {
    /// Values per vector (a multiple of 32).
    public let count: Int
    /// Vectors the storage holds.
    public private(set) var capacity: Int
    private(set) var values: UnsafeMutablePointer<Int8>
    private(set) var scales: UnsafeMutablePointer<Float>
    private(set) var sums: UnsafeMutablePointer<Float>
    /// Scales and sums of block b of vector v at b * capacity + v.
    private(set) var transposedScales: UnsafeMutablePointer<Float>
    private(set) var transposedSums: UnsafeMutablePointer<Float>

    /// Storage for `vectors` vectors of `count` values (a positive multiple of 32), zeroed.
    public init(count: Int, vectors: Int = 1) {
        precondition(count > 0 && count % 32 == 0, "Q8 activations need a positive multiple of 32 values, got \(count)")
        self.count = count
        capacity = max(1, vectors)
        (values, scales, sums, transposedScales, transposedSums) = Q8ActivationBatch.allocate(count: count, vectors: capacity)
    }

    deinit { release() }

    /// Number of 32-value blocks per vector.
    public var blockCount: Int { count / 32 }

    /// Makes room for at least `vectors` vectors (previous contents are dropped when it grows).
    public func reserve(_ vectors: Int) {
        guard vectors > capacity else { return }
        release()
        capacity = vectors
        (values, scales, sums, transposedScales, transposedSums) = Q8ActivationBatch.allocate(count: count, vectors: vectors)
    }

    /// Quantizes the `count` floats at `x` into vector `index` (< `capacity`).
    public func quantize(_ x: UnsafePointer<Float>, into index: Int, isa: KernelISA = .best) {
        precondition(index >= 0 && index < capacity, "vector \(index) outside 0..<\(capacity)")
        let nb = blockCount
        let d = scales + index * nb, s = sums + index * nb
        fq_quantize_q8_activations(x, Int64(nb), values + index * count, d, s, isa.code)
        for b in 0..<nb {
            transposedScales[b * capacity + index] = d[b]
            transposedSums[b * capacity + index] = s[b]
        }
    }

    /// Vector `index` as a `Q8Activations` value (a copy; for tests and error analysis).
    public func snapshot(_ index: Int) -> Q8Activations {
        precondition(index >= 0 && index < capacity, "vector \(index) outside 0..<\(capacity)")
        let nb = blockCount
        return Q8Activations(values: Array(UnsafeBufferPointer(start: values + index * count, count: count)),
                             scales: Array(UnsafeBufferPointer(start: scales + index * nb, count: nb)),
                             sums: Array(UnsafeBufferPointer(start: sums + index * nb, count: nb)))
    }

    private static func allocate(count: Int, vectors: Int) -> (UnsafeMutablePointer<Int8>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                                               UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
        let q = UnsafeMutablePointer<Int8>.allocate(capacity: vectors * count)
        q.initialize(repeating: 0, count: vectors * count)
        func floats() -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: vectors * count / 32)
            p.initialize(repeating: 0, count: vectors * count / 32)
            return p
        }
        return (q, floats(), floats(), floats(), floats())
    }

    private func release() {
        values.deallocate()
        scales.deallocate()
        sums.deallocate()
        transposedScales.deallocate()
        transposedSums.deallocate()
    }
}
