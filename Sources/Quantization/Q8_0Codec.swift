import CQuantKernels

/// ggml's Q8_0: blocks of 32 values in 34 bytes, a half-float scale d then 32 signed bytes q;
/// value j = q[j] * d.
public enum Q8_0Codec {
    public static let type = GGMLType.q8_0

    /// Scalar reference decoder (llama.cpp's dequantize_row_q8_0). `count` is a multiple of 32.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let b = src + 34 * i
            let d = BlockFields.half(b, 0)
            for j in 0..<32 { dst[32 * i + j] = Float(b.load(fromByteOffset: 2 + j, as: Int8.self)) * d }
        }
    }

    /// Fast decoder (C kernel, bit-identical to the reference).
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA = .best) {
        precondition(count % 32 == 0)
        fq_dequantize_q8_0(src.assumingMemoryBound(to: UInt8.self), dst, Int64(count / 32), isa.code)
    }

    /// Encoder reproducing llama.cpp's quantize_row_q8_0_ref bit for bit: d = absmax / 127 stored as
    /// half, q = round-half-away(x / d) computed with the float32 reciprocal of d.
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let x = src + 32 * i
            let b = dst + 34 * i
            var amax: Float = 0
            for j in 0..<32 { amax = Swift.max(amax, abs(x[j])) }
            let d = amax / 127
            let id: Float = d != 0 ? 1 / d : 0
            BlockFields.storeHalf(d, b, 0)
            for j in 0..<32 {
                let r = (x[j] * id).rounded(.toNearestOrAwayFromZero)
                let q: Int8 = r.isNaN ? 0 : Int8(Swift.max(-128, Swift.min(127, r)))
                b.storeBytes(of: q, toByteOffset: 2 + j, as: Int8.self)
            }
        }
    }
}
