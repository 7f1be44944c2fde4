import Foundation
import Tensor

/// AdamW with decoupled weight decay, matching PyTorch's `torch.optim.AdamW` update exactly:
///   p -= lr * wd * p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
///   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
///
/// Moments live in two buffers laid out like the parameters. Weight decay is applied per segment, so
/// biases and norm parameters (segments with `decay == false`) are never decayed.
public final class AdamW: @unchecked Sendable {
    public struct Hyper: Codable, Equatable, Sendable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.95
        public var eps: Float = 1e-8
        public var weightDecay: Float = 0.1
        public init(beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8, weightDecay: Float = 0.1) {
            self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        }
    }

    /// A contiguous range of the parameter buffer and whether weight decay applies to it.
    public struct Segment: Equatable, Sendable {
        public let offset: Int, count: Int, decay: Bool
        public init(offset: Int, count: Int, decay: Bool) { self.offset = offset; self.count = count; self.decay = decay }
    }

    public var hyper: Hyper
    public let segments: [Segment]
    public let m: AlignedBuffer<Float>
    public let v: AlignedBuffer<Float>
    /// Number of updates taken so far (PyTorch's `step`).
    public private(set) var step: Int = 0

    public init(size: Int, segments: [Segment], hyper: Hyper = Hyper()) {
        self.hyper = hyper
        self.segments = segments
        m = AlignedBuffer<Float>(count: size)
        v = AlignedBuffer<Float>(count: size)
    }

    /// Applies one update with learning rate `lr` to `params` given `grads` (same layout).
    public func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, lr: Float) {
        step += 1
        let h = hyper
        let bc1 = 1 - Foundation.pow(Double(h.beta1), Double(step))
        let bc2 = 1 - Foundation.pow(Double(h.beta2), Double(step))
        let stepSize = Float(Double(lr) / bc1)
        let bc2Sqrt = Float(bc2.squareRoot())
        let mp = m.pointer, vp = v.pointer
        for seg in segments {
            let decayFactor: Float = seg.decay ? 1 - lr * h.weightDecay : 1
            Parallel.forEachChunk(seg.count, minPerThread: 32768) { r in
                AdamW.kernel(p: params + seg.offset + r.lowerBound, g: grads + seg.offset + r.lowerBound,
                             m: mp + seg.offset + r.lowerBound, v: vp + seg.offset + r.lowerBound, count: r.count,
                             decayFactor: decayFactor, b1: h.beta1, b2: h.beta2, eps: h.eps, stepSize: stepSize, bc2Sqrt: bc2Sqrt)
            }
        }
    }

    typealias V = SIMD16<Float>

    @inline(__always)
    static func kernel(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                       v: UnsafeMutablePointer<Float>, count: Int, decayFactor: Float, b1: Float, b2: Float,
                       eps: Float, stepSize: Float, bc2Sqrt: Float) {
        var i = 0
        let ob1 = 1 - b1, ob2 = 1 - b2
        while i + 16 <= count {
            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            var mv = UnsafeRawPointer(m + i).loadUnaligned(as: V.self)
            var vv = UnsafeRawPointer(v + i).loadUnaligned(as: V.self)
            var pv = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            pv = pv * decayFactor
            mv = b1 * mv + ob1 * gv
            let g2: V = gv * gv
            vv = b2 * vv + ob2 * g2
            let denom: V = vv.squareRoot() / bc2Sqrt + eps
            pv = pv - stepSize * (mv / denom)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mv, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vv, as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: pv, as: V.self)
            i += 16
        }
        while i < count {
            p[i] *= decayFactor
            m[i] = b1 * m[i] + ob1 * g[i]
            v[i] = b2 * v[i] + ob2 * g[i] * g[i]
            p[i] -= stepSize * (m[i] / (v[i].squareRoot() / bc2Sqrt + eps))
            i += 1
        }
    }

    /// Restores the step counter (from a checkpoint; the moments are restored by copying into m and v).
    public func restore(step: Int) { self.step = step }
}
