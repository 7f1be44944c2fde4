/// The arithmetic of a frozen weight's batched products (forward and input gradient).
///
/// `float32` decodes tiles of the weight to float32 and multiplies them with sgemm: the products are
/// those of the decoded weight, rounded like any float32 GEMM. `blockInt16` quantizes both operands in
/// groups of 64 along the contraction (activations or gradients to 14 bits, the decoded 4- or 8-bit
/// weights to 13 bits, one float scale per group), sums each group exactly in int32 and accumulates
/// the groups in float32 (`CBlockInt16Kernels.h`): 1.4-1.5x sgemm's throughput on AVX2 (which
/// multiplies pairs of int16 at twice the rate of float FMAs), with a rounding error per operand of at
/// most 1/16382 and 1/8190 of its group's largest magnitude -- far finer than bfloat16 (8 significant
/// bits), QLoRA's usual compute type, and than the weights' own 4-bit steps.
/// Contraction lengths that are not multiples of 64 fall back to float32.
public enum FrozenProductArithmetic: String, Sendable, CaseIterable {
    case float32 = "f32"
    case blockInt16 = "int16"

    /// The CLI names, in order.
    public static var choices: [String] { allCases.map(\.rawValue) }

    /// Parses a CLI name ("f32" or "float32", "int16"); nil for anything else.
    public init?(cliName text: String) {
        switch text.lowercased() {
        case "f32", "float32": self = .float32
        case "int16": self = .blockInt16
        default: return nil
        }
    }
}
