import Tensor

/// Little-endian field access inside ggml blocks (which are packed, so fields are unaligned).
enum BlockFields {
    /// The IEEE half float at `offset` as float32.
    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfConversion.halfBitsToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Stores `value` rounded to the nearest half float (ties to even, as ggml's GGML_FP32_TO_FP16).
    @inline(__always)
    static func storeHalf(_ value: Float, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: HalfConversion.floatToHalfBits(value).littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// The byte at `offset`.
    @inline(__always)
    static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 { p.load(fromByteOffset: offset, as: UInt8.self) }

    /// Truncates a float known to lie in [0, limit] (or NaN) toward zero, as C's cast does; NaN gives 0
    /// and out-of-range values are clamped instead of trapping.
    @inline(__always)
    static func truncatedNibble(_ v: Float, limit: Float) -> UInt8 {
        guard v > 0 else { return 0 }
        return UInt8(Swift.min(v, limit))
    }
}
