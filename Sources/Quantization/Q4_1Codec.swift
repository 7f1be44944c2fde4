import CQuantKernels

/// ggml's Q4_1: blocks of 32 values in 20 bytes, half-float scale d and min m, then 16 bytes of
/// nibbles in Q4_0's order; x = q * d + m.
public enum Q4_1Codec {
    public static let type = GGMLType.q4_1

    /// Scalar reference decoder (llama.cpp's dequantize_row_q4_1). `count` is a multiple of 32.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let b = src + 20 * i
            let d = BlockFields.half(b, 0), m = BlockFields.half(b, 2)
            for j in 0..<16 {
                let q = BlockFields.byte(b, 4 + j)
                dst[32 * i + j] = Float(q & 0x0F) * d + m
                dst[32 * i + j + 16] = Float(q >> 4) * d + m
            }
        }
    }

    /// Fast decoder (C kernel, bit-identical to the reference).
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA = .best) {
        precondition(count % 32 == 0)
        fq_dequantize_q4_1(src.assumingMemoryBound(to: UInt8.self), dst, Int64(count / 32), isa.code)
    }

    /// Encoder reproducing llama.cpp's quantize_row_q4_1_ref bit for bit: d = (max - min) / 15,
    /// m = min, q = min(15, trunc((x - min) / d + 0.5)).
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let x = src + 32 * i
            let b = dst + 20 * i
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                if x[j] < lo { lo = x[j] }
                if x[j] > hi { hi = x[j] }
            }
            let d = (hi - lo) / 15
            let id: Float = d != 0 ? 1 / d : 0
            BlockFields.storeHalf(d, b, 0)
            BlockFields.storeHalf(lo, b, 2)
            for j in 0..<16 {
                let q0 = BlockFields.truncatedNibble((x[j] - lo) * id + 0.5, limit: 15)
                let q1 = BlockFields.truncatedNibble((x[j + 16] - lo) * id + 0.5, limit: 15)
                b.storeBytes(of: q0 | (q1 << 4), toByteOffset: 4 + j, as: UInt8.self)
            }
        }
    }
}
