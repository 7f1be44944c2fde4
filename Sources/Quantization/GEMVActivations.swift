/// How a matrix-vector product treats the activation vector.
public enum GEMVActivations: Sendable, Equatable {
    /// Quantize the activations to 8-bit blocks of 32 and use integer dot products (llama.cpp's
    /// approach; fastest, adds a relative error of about 1/254 of each block's largest activation).
    /// Applies to Q4_0, Q4_1 and Q8_0 weights; other types use `.float32`.
    case int8
    /// Multiply dequantized weights with float32 activations (no activation rounding).
    case float32
}
