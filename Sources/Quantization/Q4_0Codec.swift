import CQuantKernels

/// ggml's Q4_0: blocks of 32 values in 18 bytes, a half-float scale d then 16 bytes of nibbles;
/// value j is the low nibble of byte j, value j + 16 its high nibble, x = (q - 8) * d.
public enum Q4_0Codec {
    public static let type = GGMLType.q4_0

    /// Scalar reference decoder (llama.cpp's dequantize_row_q4_0). `count` is a multiple of 32.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let b = src + 18 * i
            let d = BlockFields.half(b, 0)
            for j in 0..<16 {
                let q = BlockFields.byte(b, 2 + j)
                dst[32 * i + j] = Float(Int(q & 0x0F) - 8) * d
                dst[32 * i + j + 16] = Float(Int(q >> 4) - 8) * d
            }
        }
    }

    /// Fast decoder (C kernel, bit-identical to the reference).
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA = .best) {
        precondition(count % 32 == 0)
        fq_dequantize_q4_0(src.assumingMemoryBound(to: UInt8.self), dst, Int64(count / 32), isa.code)
    }

    /// Encoder reproducing llama.cpp's quantize_row_q4_0_ref bit for bit: d = (the value of largest
    /// magnitude, first one on ties) / -8, q = min(15, trunc(x / d + 8.5)).
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let x = src + 32 * i
            let b = dst + 18 * i
            var amax: Float = 0, maxValue: Float = 0
            for j in 0..<32 where amax < abs(x[j]) {
                amax = abs(x[j])
                maxValue = x[j]
            }
            let d = maxValue / -8
            let id: Float = d != 0 ? 1 / d : 0
            BlockFields.storeHalf(d, b, 0)
            for j in 0..<16 {
                let q0 = BlockFields.truncatedNibble(x[j] * id + 8.5, limit: 15)
                let q1 = BlockFields.truncatedNibble(x[j + 16] * id + 8.5, limit: 15)
                b.storeBytes(of: q0 | (q1 << 4), toByteOffset: 2 + j, as: UInt8.self)
            }
        }
    }
}
