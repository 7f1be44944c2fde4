import CQuantKernels

/// ggml's Q6_K: super-blocks of 256 values in 210 bytes: 128 bytes of low nibbles (ql), 64 bytes of
/// 2-bit high parts (qh), 16 signed 8-bit scales (one per 16 values), half-float d at byte 208;
/// x = d * scale * (q - 32) with q six bits. Decode only.
public enum Q6_KCodec {
    public static let type = GGMLType.q6_K

    /// Scalar reference decoder (llama.cpp's dequantize_row_q6_K). `count` is a multiple of 256.
    public static func dequantizeRowReference(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % 256 == 0)
        for i in 0..<(count / 256) {
            let b = src + 210 * i
            let d = BlockFields.half(b, 208)
            for half in 0..<2 {
                let ql = b + 64 * half, qh = b + 128 + 32 * half, sc = b + 192 + 8 * half
                let y = dst + 256 * i + 128 * half
                let scale = { (k: Int) in Float(sc.load(fromByteOffset: k, as: Int8.self)) }
                for l in 0..<32 {
                    let s = l / 16
                    let a = Int(BlockFields.byte(ql, l)), c = Int(BlockFields.byte(ql, l + 32)), h = Int(BlockFields.byte(qh, l))
                    let q1 = ((a & 0x0F) | ((h & 3) << 4)) - 32
                    let q2 = ((c & 0x0F) | (((h >> 2) & 3) << 4)) - 32
                    let q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32
                    let q4 = ((c >> 4) | (((h >> 6) & 3) << 4)) - 32
                    y[l] = d * scale(s) * Float(q1)
                    y[l + 32] = d * scale(s + 2) * Float(q2)
                    y[l + 64] = d * scale(s + 4) * Float(q3)
                    y[l + 96] = d * scale(s + 6) * Float(q4)
                }
            }
        }
    }

    /// Fast decoder (C kernel, bit-identical to the reference).
    public static func dequantizeRow(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA = .best) {
        precondition(count % 256 == 0)
        fq_dequantize_q6_k(src.assumingMemoryBound(to: UInt8.self), dst, Int64(count / 256), isa.code)
    }
}
