import Foundation
import Tensor

/// The gated activation of LLaMA's MLP: out = silu(gate) * up, with silu(x) = x * sigmoid(x).
public enum SwiGLU {
    public typealias V = SIMD16<Float>

    /// - shapes: gate [N], up [N], out [N]
    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minPerThread: 16384) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let g = UnsafeRawPointer(gate + i).loadUnaligned(as: V.self)
                let u = UnsafeRawPointer(up + i).loadUnaligned(as: V.self)
                let sig: V = 1 / (1 + VectorMath.exp(-g))
                UnsafeMutableRawPointer(out + i).storeBytes(of: g * sig * u, as: V.self)
                i += 16
            }
            while i < r.upperBound {
                let g = gate[i]
                out[i] = g / (1 + Foundation.exp(-g)) * up[i]
                i += 1
            }
        }
    }

    /// dgate += dout * up * silu'(gate); dup += dout * silu(gate)
    public static func backward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minPerThread: 16384) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let g = UnsafeRawPointer(gate + i).loadUnaligned(as: V.self)
                let u = UnsafeRawPointer(up + i).loadUnaligned(as: V.self)
                let d = UnsafeRawPointer(dout + i).loadUnaligned(as: V.self)
                let s: V = 1 / (1 + VectorMath.exp(-g))
                let silu = g * s
                let dg = UnsafeRawPointer(dgate + i).loadUnaligned(as: V.self) + d * u * (s + silu * (1 - s))
                let du = UnsafeRawPointer(dup + i).loadUnaligned(as: V.self) + d * silu
                UnsafeMutableRawPointer(dgate + i).storeBytes(of: dg, as: V.self)
                UnsafeMutableRawPointer(dup + i).storeBytes(of: du, as: V.self)
                i += 16
            }
            while i < r.upperBound {
                let g = gate[i]
                let s = 1 / (1 + Foundation.exp(-g))
                let silu = g * s
                dgate[i] += dout[i] * up[i] * (s + silu * (1 - s))
                dup[i] += dout[i] * silu
                i += 1
            }
        }
    }

    public static func forwardReference(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = Double(gate[i])
            out[i] = Float(g / (1 + Foundation.exp(-g)) * Double(up[i]))
        }
    }
}
