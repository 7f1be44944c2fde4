import Foundation
import Tensor

/// Rotary position embedding in Hugging Face's "rotate half" layout: within each head of size d,
/// element i (< d/2) is paired with element i + d/2 and the pair is rotated by pos * base^(-2i/d).
/// (GGUF files store q/k rows permuted for the adjacent-pair layout; loaders undo that permutation.)
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let maxPositions: Int
    public let base: Float
    /// cos and sin tables, [maxPositions, headDim / 2]
    let cosTable: [Float]
    let sinTable: [Float]

    public init(headDim: Int, maxPositions: Int, base: Float) {
        precondition(headDim % 2 == 0, "rotary head dimension must be even")
        self.headDim = headDim
        self.maxPositions = maxPositions
        self.base = base
        let half = headDim / 2
        var c = [Float](repeating: 0, count: maxPositions * half), s = c
        for i in 0..<half {
            // inverse frequency computed in float32 as Hugging Face does
            let invFreq = 1 / Foundation.pow(base, Float(2 * i) / Float(headDim))
            for p in 0..<maxPositions {
                let angle = Float(p) * invFreq
                c[p * half + i] = Foundation.cos(angle)
                s[p * half + i] = Foundation.sin(angle)
            }
        }
        cosTable = c
        sinTable = s
    }

    /// Rotates `heads` heads of each row in place. Row r of `x` (stride `ld`) is at position
    /// `startPosition + r % seq` (rows are [B, T] flattened).
    /// - shapes: x [B*T, ld] with heads*headDim <= ld
    public func apply(_ x: UnsafeMutablePointer<Float>, rows n: Int, seq: Int, ld: Int, heads: Int, startPosition: Int = 0, inverse: Bool = false) {
        let half = headDim / 2
        let sign: Float = inverse ? -1 : 1
        cosTable.withUnsafeBufferPointer { cb in
            sinTable.withUnsafeBufferPointer { sb in
                let cp = cb.baseAddress!, sp = sb.baseAddress!
                Parallel.forEachChunk(n, minPerThread: 8) { rows in
                    for r in rows {
                        let pos = startPosition + r % seq
                        let cr = cp + pos * half, sr = sp + pos * half
                        for h in 0..<heads {
                            let v = x + r * ld + h * headDim
                            for i in 0..<half {
                                let a = v[i], b = v[i + half]
                                let co = cr[i], si = sign * sr[i]
                                v[i] = a * co - b * si
                                v[i + half] = b * co + a * si
                            }
                        }
                    }
                }
            }
        }
    }

    /// Backward of `apply`: rotating a gradient by the inverse angle (the rotation's transpose).
    public func backward(_ dx: UnsafeMutablePointer<Float>, rows n: Int, seq: Int, ld: Int, heads: Int, startPosition: Int = 0) {
        apply(dx, rows: n, seq: seq, ld: ld, heads: heads, startPosition: startPosition, inverse: true)
    }
}
