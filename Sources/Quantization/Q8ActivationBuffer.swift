import CQuantKernels

/// Reusable storage for Q8 activations (the format of `Q8Activations`: per block of 32 values a
/// scale d = absmax / 127, bytes q = round-half-even(x / d) and s = d * sum(q)), quantized in place.
///
/// For the per-token loop of generation, which quantizes the same few vector sizes hundreds of
/// times per token: no allocation per call, and disjoint block ranges can be quantized from
/// different threads at once (each thread its share of a vector it has just computed).
public final class Q8ActivationBuffer: @unchecked Sendable {
    /// Values per vector (a multiple of 32).
    public let count: Int
    let values: UnsafeMutablePointer<Int8>
    let scales: UnsafeMutablePointer<Float>
    let sums: UnsafeMutablePointer<Float>

    /// Storage for `count` values (a multiple of 32), zeroed.
    public init(count: Int) {
        precondition(count > 0 && count % 32 == 0, "Q8 activations need a positive multiple of 32 values, got \(count)")
        self.count = count
        values = .allocate(capacity: count)
        values.initialize(repeating: 0, count: count)
        scales = .allocate(capacity: count / 32)
        scales.initialize(repeating: 0, count: count / 32)
        sums = .allocate(capacity: count / 32)
        sums.initialize(repeating: 0, count: count / 32)
    }

    deinit {
        values.deallocate()
        scales.deallocate()
        sums.deallocate()
    }

    /// Number of 32-value blocks.
    public var blockCount: Int { count / 32 }

    /// Quantizes the blocks `blocks` of the vector `x` (all `count` values; only the values of those
    /// blocks are read). Calls for disjoint ranges may run concurrently.
    public func quantize(_ x: UnsafePointer<Float>, blocks: Range<Int>, isa: KernelISA = .best) {
        precondition(blocks.lowerBound >= 0 && blocks.upperBound <= blockCount, "blocks \(blocks) outside 0..<\(blockCount)")
        if blocks.isEmpty { return }
        let b = blocks.lowerBound
        fq_quantize_q8_activations(x + 32 * b, Int64(blocks.count), values + 32 * b, scales + b, sums + b, isa.code)
    }

    /// Quantizes the whole vector `x` of `count` values.
    public func quantize(_ x: UnsafePointer<Float>, isa: KernelISA = .best) {
        quantize(x, blocks: 0..<blockCount, isa: isa)
    }

    /// The current contents as a `Q8Activations` value (a copy; for tests and error analysis).
    public var snapshot: Q8Activations {
        Q8Activations(values: Array(UnsafeBufferPointer(start: values, count: count)),
                      scales: Array(UnsafeBufferPointer(start: scales, count: blockCount)),
                      sums: Array(UnsafeBufferPointer(start: sums, count: blockCount)))
    }
}
