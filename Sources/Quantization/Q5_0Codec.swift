/// ggml's Q5_0: blocks of 32 values in 22 bytes: half-float scale d, a little-endian u32 of fifth
/// bits (bit j for value j), 16 bytes of low nibbles in Q4_0's order; x = (q - 16) * d.
///
/// Decoded by this scalar code only (no model in use here stores Q5_0; it exists so every GGUF
/// type decodes).
public enum Q5_0Codec {
    public static let type = GGMLType.q5_0

    /// Scalar reference decoder (llama.cpp's dequantize_row_q5_0). `count` is a multiple of 32.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let b = src + 22 * i
            let d = BlockFields.half(b, 0)
            let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            for j in 0..<16 {
                let q = BlockFields.byte(b, 6 + j)
                let h0 = Int((qh >> UInt32(j)) & 1) << 4, h1 = Int((qh >> UInt32(j + 16)) & 1) << 4
                dst[32 * i + j] = Float((Int(q & 0x0F) | h0) - 16) * d
                dst[32 * i + j + 16] = Float((Int(q >> 4) | h1) - 16) * d
            }
        }
    }

    /// Encoder reproducing llama.cpp's quantize_row_q5_0_ref bit for bit.
    public static func quantizeRowReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        precondition(count % 32 == 0)
        for i in 0..<(count / 32) {
            let x = src + 32 * i
            let b = dst + 22 * i
            var amax: Float = 0, maxValue: Float = 0
            for j in 0..<32 where amax < abs(x[j]) {
                amax = abs(x[j])
                maxValue = x[j]
            }
            let d = maxValue / -16
            let id: Float = d != 0 ? 1 / d : 0
            BlockFields.storeHalf(d, b, 0)
            var qh: UInt32 = 0
            for j in 0..<16 {
                let q0 = BlockFields.truncatedNibble(x[j] * id + 16.5, limit: 31)
                let q1 = BlockFields.truncatedNibble(x[j + 16] * id + 16.5, limit: 31)
                b.storeBytes(of: (q0 & 0x0F) | ((q1 & 0x0F) << 4), toByteOffset: 6 + j, as: UInt8.self)
                qh |= UInt32(q0 >> 4) << UInt32(j)
                qh |= UInt32(q1 >> 4) << UInt32(j + 16)
            }
            b.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
        }
    }
}
