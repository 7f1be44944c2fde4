import NN
import Quantization

extension LinearMap {
    /// The same frozen weight (no copy) with its batched products in `arithmetic`; maps whose products
    /// are plain sgemm on float32 weights (and any other kind) are returned unchanged.
    public func withFrozenArithmetic(_ arithmetic: FrozenProductArithmetic) -> LinearMap {
        switch self {
        case let m as NF4LinearMap:
            return NF4LinearMap(m.matrix.with(tuning: m.matrix.tuning.with(arithmetic: arithmetic)))
        case let m as Int8LinearMap:
            return Int8LinearMap(m.matrix.with(tuning: m.matrix.tuning.with(arithmetic: arithmetic)))
        case let m as QuantizedLinearMap where m.matrix.type != .f32:
            return QuantizedLinearMap(m.matrix.with(tuning: m.matrix.tuning.with(arithmetic: arithmetic)))
        default:
            return self
        }
    }
}
