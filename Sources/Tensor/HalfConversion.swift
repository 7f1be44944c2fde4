/// Conversions between float32 and the 16-bit float formats used by model files.
///
/// float16 goes through Swift's `Float16` (IEEE binary16, round-to-nearest-even); bfloat16 is the
/// upper half of a float32 with round-to-nearest-even and NaN preserved.
public enum HalfConversion {
    @inline(__always)
    public static func floatToHalfBits(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    @inline(__always)
    public static func halfBitsToFloat(_ h: UInt16) -> Float { Float(Float16(bitPattern: h)) }

    @inline(__always)
    public static func floatToBFloat16Bits(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounding: UInt32 = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    @inline(__always)
    public static func bfloat16BitsToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// Decodes `count` float16 values to float32.
    public static func decodeHalf(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] = halfBitsToFloat(src[i]) }
    }

    public static func encodeHalf(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { dst[i] = floatToHalfBits(src[i]) }
    }

    public static func decodeBFloat16(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dst[i] = bfloat16BitsToFloat(src[i]) }
    }

    public static func encodeBFloat16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { dst[i] = floatToBFloat16Bits(src[i]) }
    }
}
