/// Plain scalar references for the NF4 products, used by the tests: every weight is decoded with the
/// Swift reference decoder and every sum is accumulated in double precision.
extension NF4Matrix {
    /// out[N, rows] = x[N, columns] W^T.
    public func forwardReference(_ x: UnsafePointer<Float>, rows n: Int, into out: UnsafeMutablePointer<Float>) {
        FrozenProductReference.forward(rows: rows, columns: columns, decodeRow: dequantizeRowReference, x, n: n, into: out)
    }

    /// dx[N, columns] += dy[N, rows] W.
    public func backwardInputReference(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>) {
        FrozenProductReference.backwardInput(rows: rows, columns: columns, decodeRow: dequantizeRowReference, dy, n: n, accumulateInto: dx)
    }
}
