import Foundation

/// SIMD elementwise and reduction kernels on float32 arrays. Each has a plain scalar reference
/// (`…Reference`) that the tests compare against.
public enum Kernels {
    public typealias V = SIMD16<Float>

    @usableFromInline @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @usableFromInline @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    // MARK: elementwise

    /// out = a + b
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count { store(load(a + i) + load(b + i), out + i); i += 16 }
        while i < count { out[i] = a[i] + b[i]; i += 1 }
    }

    public static func addReference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = a[i] + b[i] }
    }

    /// y += alpha * x
    @inlinable
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let va = V(repeating: alpha)
        while i + 16 <= count { store(load(y + i) + va * load(x + i), y + i); i += 16 }
        while i < count { y[i] += alpha * x[i]; i += 1 }
    }

    public static func axpyReference(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += alpha * x[i] }
    }

    /// x *= alpha
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
        var i = 0
        while i + 16 <= count { store(load(x + i) * alpha, x + i); i += 16 }
        while i < count { x[i] *= alpha; i += 1 }
    }

    // MARK: reductions

    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= count { acc += load(x + i); i += 16 }
        var s = acc.sum()
        while i < count { s += x[i]; i += 1 }
        return s
    }

    public static func sumReference(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var s: Double = 0
        for i in 0..<count { s += Double(x[i]) }
        return Float(s)
    }

    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= count { acc += load(a + i) * load(b + i); i += 16 }
        var s = acc.sum()
        while i < count { s += a[i] * b[i]; i += 1 }
        return s
    }

    public static func dotReference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s: Double = 0
        for i in 0..<count { s += Double(a[i]) * Double(b[i]) }
        return Float(s)
    }

    /// Sum of squares accumulated in double precision per SIMD lane group (used for gradient norms).
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total: Double = 0
        var i = 0
        while i < count {
            let end = min(count, i + 4096)
            var acc = V(repeating: 0)
            while i + 16 <= end { let v = load(x + i); acc += v * v; i += 16 }
            var s = Double(acc.sum())
            while i < end { s += Double(x[i] * x[i]); i += 1 }
            total += s
        }
        return total
    }

    public static func sumOfSquaresReference(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var s: Double = 0
        for i in 0..<count { s += Double(x[i]) * Double(x[i]) }
        return s
    }

    public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        precondition(count > 0)
        var i = 0
        var m = -Float.infinity
        if count >= 16 {
            var acc = load(x)
            i = 16
            while i + 16 <= count { acc = pointwiseMax(acc, load(x + i)); i += 16 }
            m = acc.max()
        }
        while i < count { m = Swift.max(m, x[i]); i += 1 }
        return m
    }

    public static func maxReference(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var m = -Float.infinity
        for i in 0..<count { m = Swift.max(m, x[i]) }
        return m
    }

    // MARK: softmax

    /// In-place numerically stable softmax of one row; returns log(sum(exp(x - max))) + max (the log-sum-exp).
    @discardableResult
    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        let m = max(x, count: count)
        VectorMath.apply(x, count: count) { v in VectorMath.exp(v - m) }
        let s = sum(x, count: count)
        scale(x, by: 1 / s, count: count)
        return m + Foundation.log(s)
    }

    public static func softmaxReference(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var m = -Float.infinity
        for i in 0..<count { m = Swift.max(m, x[i]) }
        var s: Double = 0
        for i in 0..<count { s += Foundation.exp(Double(x[i] - m)) }
        for i in 0..<count { x[i] = Float(Foundation.exp(Double(x[i] - m)) / s) }
    }

    // MARK: GELU (tanh approximation, as GPT-2)

    static let geluC: Float = 0.797_884_56 // sqrt(2/pi)

    /// out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    public static func gelu(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let v = load(x + i)
            let cube: V = v * v * v
            let u: V = geluC * (v + 0.044715 * cube)
            let half: V = 0.5 * v
            store(half * (1 + VectorMath.tanh(u)), out + i)
            i += 16
        }
        while i < count { out[i] = geluScalar(x[i]); i += 1 }
    }

    @inline(__always)
    static func geluScalar(_ v: Float) -> Float {
        0.5 * v * (1 + Foundation.tanh(geluC * (v + 0.044715 * v * v * v)))
    }

    public static func geluReference(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = Double(x[i])
            out[i] = Float(0.5 * v * (1 + Foundation.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))))
        }
    }

    /// dx += dout * gelu'(x)
    public static func geluBackward(_ x: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let v = load(x + i)
            let cube: V = v * v * v
            let u: V = geluC * (v + 0.044715 * cube)
            let t = VectorMath.tanh(u)
            let sech2 = 1 - t * t
            let v2: V = v * v
            let inner: V = 1 + 0.134145 * v2
            let half: V = 0.5 * v
            let first: V = 0.5 * (1 + t)
            let local: V = first + half * sech2 * geluC * inner
            store(load(dx + i) + local * load(dout + i), dx + i)
            i += 16
        }
        while i < count { dx[i] += geluGradScalar(x[i]) * dout[i]; i += 1 }
    }

    @inline(__always)
    static func geluGradScalar(_ v: Float) -> Float {
        let t = Foundation.tanh(geluC * (v + 0.044715 * v * v * v))
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * geluC * (1 + 3 * 0.044715 * v * v)
    }

    public static func geluBackwardReference(_ x: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = Double(x[i])
            let c = 0.7978845608028654
            let t = Foundation.tanh(c * (v + 0.044715 * v * v * v))
            let g = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v)
            dx[i] += Float(g * Double(dout[i]))
        }
    }
}

@inline(__always)
func pointwiseMax(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: b .> a) }
