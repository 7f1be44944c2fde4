/// ggml's Q5_1: blocks of 32 values in 24 bytes: half-float scale d and min m, a little-endian u32
/// of fifth bits, 16 bytes of low nibbles; x = q * d + m.
///
/// Decoded by this scalar code only (it exists so every GGUF type decodes).
public enum Q5_1Codec {
    public static let type = GGMLType.q5_1

    /// Scalar reference decoder (llama.cpp's dequantize_row_q5_1). `count` is a multiple of 32.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let b = src + 24 * i
            let d = BlockFields.half(b, 0), m = BlockFields.half(b, 2)
            let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            for j in 0..<16 {
                let q = BlockFields.byte(b, 8 + j)
                let h0 = Int((qh >> UInt32(j)) & 1) << 4, h1 = Int((qh >> UInt32(j + 16)) & 1) << 4
                dst[32 * i + j] = Float(Int(q & 0x0F) | h0) * d + m
                dst[32 * i + j + 16] = Float(Int(q >> 4) | h1) * d + m
            }
        }
    }

    /// Encoder reproducing llama.cpp's quantize_row_q5_1_ref bit for bit.
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let x = src + 32 * i
            let b = dst + 24 * i
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                if x[j] < lo { lo = x[j] }
                if x[j] > hi { hi = x[j] }
            }
            let d = (hi - lo) / 31
            let id: Float = d != 0 ? 1 / d : 0
            BlockFields.storeHalf(d, b, 0)
            BlockFields.storeHalf(lo, b, 2)
            var qh: UInt32 = 0
            for j in 0..<16 {
                let q0 = BlockFields.truncatedNibble((x[j] - lo) * id + 0.5, limit: 31)
                let q1 = BlockFields.truncatedNibble((x[j + 16] - lo) * id + 0.5, limit: 31)
                b.storeBytes(of: (q0 & 0x0F) | ((q1 & 0x0F) << 4), toByteOffset: 8 + j, as: UInt8.self)
                qh |= UInt32(q0 >> 4) << UInt32(j)
                qh |= UInt32(q1 >> 4) << UInt32(j + 16)
            }
            b.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }
}
