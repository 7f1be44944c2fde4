import NN
import Quantization

extension LinearMap {
    /// The same frozen weight (no copy) with its batched products in `arithmetic`; maps whose products
    /// are plain sgemm on float32 weights (and any other kind) are returned unchanged.
    public func withFrozenArithmetic(_ arithmetic: FrozenProductArithmetic) -> LinearMap {
        switch self {
        case let m as NF4LinearMap:
            var t = m.matrix.tuning; t.arithmetic = arithmetic
            return NF4LinearMap(m.matrix.with(tuning: t))
        case let m as Int8LinearMap:
            var t = m.matrix.tuning; t.arithmetic = arithmetic
            return Int8LinearMap(m.matrix.with(tuning: t))
        case let m as QuantizedLinearMap where m.matrix.type != .f32:
            var t = m.matrix.tuning; t.arithmetic = arithmetic
            return QuantizedLinearMap(m.matrix.with(tuning: t))
        default:
            return self
        }
    }
}
