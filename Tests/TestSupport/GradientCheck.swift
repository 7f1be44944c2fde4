import Foundation
import Tensor
import XCTest

/// Central finite differences for checking analytic gradients.
public enum GradientCheck {
    /// Numerical d f / d p[i] for the indices in `indices` (all when nil), by central differences.
    public static func numeric(_ f: () -> Double, at p: UnsafeMutablePointer<Float>, count: Int,
                               indices: [Int]? = nil, eps: Float = 1e-2) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for i in indices ?? Array(0..<count) {
            let saved = p[i]
            p[i] = saved + eps
            let plus = f()
            p[i] = saved - eps
            let minus = f()
            p[i] = saved
            out[i] = (plus - minus) / (2 * Double(eps))
        }
        return out
    }

    /// Asserts analytic[i] ~ numeric[i] with |a - n| <= atol + rtol * max(|a|, |n|) for every checked index.
    public static func assertMatches(_ analytic: UnsafePointer<Float>, _ numeric: [Int: Double], rtol: Double = 2e-2,
                                     atol: Double = 1e-3, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        var worst = 0.0
        for (i, n) in numeric {
            let a = Double(analytic[i])
            let err = abs(a - n) - rtol * max(abs(a), abs(n))
            worst = max(worst, err)
            if err > atol {
                XCTFail("\(label)[\(i)]: analytic \(a) vs numeric \(n)", file: file, line: line)
                return
            }
        }
        XCTAssertFalse(numeric.isEmpty, "\(label): nothing checked", file: file, line: line)
    }

    /// A spread of indices to check in a large tensor (all when small).
    public static func sampleIndices(count: Int, max: Int = 48, rng: inout RandomGenerator) -> [Int] {
        if count <= max { return Array(0..<count) }
        return (0..<max).map { _ in rng.nextInt(below: count) }
    }

    /// sum(out * r) in double precision: the scalar loss whose gradient w.r.t. out is r.
    public static func weightedSum(_ out: UnsafePointer<Float>, _ r: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(out[i]) * Double(r[i]) }
        return s
    }
}

/// Asserts two float arrays agree elementwise within |a - b| <= atol + rtol |b|.
public func assertAllClose(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, rtol: Float = 1e-5, atol: Float = 1e-6,
                           _ label: String = "", file: StaticString = #filePath, line: UInt = #line) {
    for i in 0..<count {
        let d = abs(a[i] - b[i])
        if !(d <= atol + rtol * abs(b[i])) {
            XCTFail("\(label)[\(i)]: \(a[i]) vs \(b[i]) (diff \(d))", file: file, line: line)
            return
        }
    }
}

public func assertAllClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6, _ label: String = "",
                           file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(label): lengths differ", file: file, line: line)
    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
        assertAllClose(pa.baseAddress!, pb.baseAddress!, count: min(a.count, b.count), rtol: rtol, atol: atol, label, file: file, line: line)
    } }
}
