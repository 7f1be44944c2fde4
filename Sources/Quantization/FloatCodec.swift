import CQuantKernels
import Tensor

/// The unquantized ggml row types: F32 (little-endian IEEE single), F16 (IEEE half) and BF16
/// (upper half of a float32). Encoding rounds to nearest, ties to even, as ggml and numpy do;
/// BF16 keeps NaN quiet (ggml_compute_fp32_to_bf16).
public enum FloatCodec {
    /// Scalar reference decoder of `count` values of `type` (.f32, .f16 or .bf16).
    public static func dequantizeRowReference(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        switch type {
        case .f32:
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for i in 0..<count { dst[i] = BlockFields.half(src, 2 * i) }
        case .bf16:
            for i in 0..<count {
                dst[i] = HalfConversion.bfloat16BitsToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        default:
            preconditionFailure("\(type) is not a float row type")
        }
    }

    /// Fast decoder (F16 through the C kernel; bit-identical to the reference).
    public static func dequantizeRow(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int,
                                     isa: KernelISA = .best) {
        switch type {
        case .f32:
            UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * count)
        case .f16:
            fq_dequantize_f16(src.assumingMemoryBound(to: UInt16.self), dst, Int64(count), isa.code)
        case .bf16:
            let s = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(s[i]) << 16) }
        default:
            preconditionFailure("\(type) is not a float row type")
        }
    }

    /// Encodes `count` floats as `type` (.f32, .f16 or .bf16).
    public static func quantizeRowReference(_ type: GGMLType, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        switch type {
        case .f32:
            for i in 0..<count { dst.storeBytes(of: src[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        case .f16:
            for i in 0..<count { BlockFields.storeHalf(src[i], dst, 2 * i) }
        case .bf16:
            for i in 0..<count { dst.storeBytes(of: HalfConversion.floatToBFloat16Bits(src[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        default:
            preconditionFailure("\(type) is not a float row type")
        }
    }
}
