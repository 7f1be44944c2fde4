import CQuantKernels

/// Float activations quantized to blocks of 32 signed bytes for integer dot products with Q4_0,
/// Q4_1 and Q8_0 weights: per block a float scale d = absmax / 127, bytes q = x / d rounded half to
/// even, and s = d * sum(q) (which Q4_1's min term needs).
///
/// Quantize once and reuse for every matrix that reads the same input (q, k and v projections;
/// gate and up projections) through `QuantizedMatrix.gemv(quantized:into:)`.
public struct Q8Activations: Sendable {
    /// Values per vector (a multiple of 32).
    public let count: Int
    /// The quantized values.
    public private(set) var values: [Int8]
    /// One scale per block.
    public private(set) var scales: [Float]
    /// d * sum(q) per block.
    public private(set) var sums: [Float]

    /// Quantizes `count` floats (a multiple of 32) with the C kernel.
    public init(_ x: UnsafePointer<Float>, count: Int, isa: KernelISA = .best) {
        precondition(count % 32 == 0, "Q8 activations need a multiple of 32 values, got \(count)")
        self.count = count
        let nb = count / 32
        var q = [Int8](repeating: 0, count: count)
        var d = [Float](repeating: 0, count: nb), s = [Float](repeating: 0, count: nb)
        q.withUnsafeMutableBufferPointer { qp in d.withUnsafeMutableBufferPointer { dp in s.withUnsafeMutableBufferPointer { sp in
            fq_quantize_q8_activations(x, Int64(nb), qp.baseAddress, dp.baseAddress, sp.baseAddress, isa.code)
        } } }
        values = q
        scales = d
        sums = s
    }

    /// The plain Swift reference quantizer; produces exactly the same bytes and floats as the kernel.
    public static func reference(_ x: UnsafePointer<Float>, count: Int) -> Q8Activations {
        precondition(count % 32 == 0)
        var out = Q8Activations(count: count)
        for b in 0..<(count / 32) {
            var amax: Float = 0
            for j in 0..<32 { amax = Swift.max(amax, abs(x[32 * b + j])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            var sum = 0
            for j in 0..<32 {
                let r = (x[32 * b + j] * id).rounded(.toNearestOrEven)
                let q = r.isNaN ? 0 : Int(Swift.max(-127, Swift.min(127, r)))
                out.values[32 * b + j] = Int8(q)
                sum += q
            }
            out.scales[b] = d
            out.sums[b] = d * Float(sum)
        }
        return out
    }

    /// Activations from their parts (`Q8ActivationBuffer.snapshot`).
    init(values: [Int8], scales: [Float], sums: [Float]) {
        count = values.count
        self.values = values
        self.scales = scales
        self.sums = sums
    }

    private init(count: Int) {
        self.count = count
        values = [Int8](repeating: 0, count: count)
        scales = [Float](repeating: 0, count: count / 32)
        sums = [Float](repeating: 0, count: count / 32)
    }

    /// The dequantized values q * d (for tests and error analysis).
    public var dequantized: [Float] { (0..<count).map { Float(values[$0]) * scales[$0 / 32] } }
}
