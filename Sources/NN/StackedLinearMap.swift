import Tensor

/// Several maps over the same input whose outputs sit side by side: out [N, sum of outs] with part i
/// in its own columns (LLaMA's q/k/v or gate/up when they cannot be stacked into one matrix, e.g.
/// when some of them are factorised).
public final class StackedLinearMap: LinearMap, @unchecked Sendable {
    public let parts: [LinearMap]
    public let inFeatures: Int
    public let outFeatures: Int

    public init(_ parts: [LinearMap]) throws {
        guard let first = parts.first else { throw TensorError.invalidArgument("a stacked map needs at least one part") }
        guard parts.allSatisfy({ $0.inFeatures == first.inFeatures }) else {
            throw TensorError.shapeMismatch("stacked maps must share the input width (got \(parts.map(\.inFeatures)))")
        }
        self.parts = parts
        inFeatures = first.inFeatures
        outFeatures = parts.reduce(0) { $0 + $1.outFeatures }
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        if rows == 1 {
            var offset = 0
            for p in parts { p.forward(x, rows: 1, into: out + offset); offset += p.outFeatures }
            return
        }
        let widest = parts.map(\.outFeatures).max() ?? 0
        let scratch = AlignedBuffer<Float>(count: rows * widest)
        var offset = 0
        for p in parts {
            let w = p.outFeatures
            p.forward(x, rows: rows, into: scratch.pointer)
            for r in 0..<rows { (out + r * outFeatures + offset).update(from: scratch.pointer + r * w, count: w) }
            offset += w
        }
    }

    public func backwardInput(_ dy: UnsafePointer<Float>, rows: Int, accumulateInto dx: UnsafeMutablePointer<Float>) {
        let widest = parts.map(\.outFeatures).max() ?? 0
        let scratch = AlignedBuffer<Float>(count: rows * widest)
        var offset = 0
        for p in parts {
            let w = p.outFeatures
            for r in 0..<rows { (scratch.pointer + r * w).update(from: dy + r * outFeatures + offset, count: w) }
            p.backwardInput(scratch.pointer, rows: rows, accumulateInto: dx)
            offset += w
        }
    }

    public var storageBytes: Int { parts.reduce(0) { $0 + $1.storageBytes } }
}
