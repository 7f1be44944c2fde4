import CQuantKernels

/// ggml's Q4_K: super-blocks of 256 values in 144 bytes: half-float d and dmin, 12 bytes packing
/// eight 6-bit scales and eight 6-bit mins, then 128 bytes of nibbles. Sub-block s (32 values)
/// decodes as d * scale[s] * q - dmin * min[s]; each group of 32 bytes holds two sub-blocks (low
/// nibbles first). Decode only: K-quant files are read, not written, here.
public enum Q4_KCodec {
    public static let type = GGMLType.q4_K

    /// Scale and min of sub-block j (llama.cpp's get_scale_min_k4).
    @inline(__always)
    static func scaleMin(_ j: Int, _ scales: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        let q = { (i: Int) in BlockFields.byte(scales, i) }
        if j < 4 { return (q(j) & 63, q(j + 4) & 63) }
        return ((q(j + 4) & 0x0F) | ((q(j - 4) >> 6) << 4), (q(j + 4) >> 4) | ((q(j) >> 6) << 4))
    }

    /// Scalar reference decoder (llama.cpp's dequantize_row_q4_K). `count` is a multiple of 256.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % 256 == 0)
        for i in 0..<(count / 256) {
            let b = src + 144 * i
            let d = BlockFields.half(b, 0), dmin = BlockFields.half(b, 2)
            var y = dst + 256 * i
            for g in 0..<4 {
                let q = b + 16 + 32 * g
                let (s1, m1) = scaleMin(2 * g, b + 4)
                let (s2, m2) = scaleMin(2 * g + 1, b + 4)
                let d1 = d * Float(s1), dm1 = dmin * Float(m1)
                let d2 = d * Float(s2), dm2 = dmin * Float(m2)
                for l in 0..<32 { y[l] = d1 * Float(BlockFields.byte(q, l) & 0x0F) - dm1 }
                for l in 0..<32 { y[32 + l] = d2 * Float(BlockFields.byte(q, l) >> 4) - dm2 }
                y += 64
            }
        }
    }

    /// Fast decoder (C kernel, bit-identical to the reference).
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA = .best) {
        precondition(count % 256 == 0)
        fq_dequantize_q4_k(src.assumingMemoryBound(to: UInt8.self), dst, Int64(count / 256), isa.code)
    }
}
