/// Scalar products with a weight given by a row decoder (double-precision sums), shared by the
/// references of the frozen-weight formats.
enum FrozenProductReference {
    /// out[N, rows] = x[N, columns] W^T.
    static func forward(rows: Int, columns: Int, decodeRow: (Int, UnsafeMutablePointer<Float>) -> Void,
                        _ x: UnsafePointer<Float>, n: Int, into out: UnsafeMutablePointer<Float>) {
        var w = [Float](repeating: 0, count: columns)
        for o in 0..<rows {
            w.withUnsafeMutableBufferPointer { decodeRow(o, $0.baseAddress!) }
            for i in 0..<n {
                var s = 0.0
                for j in 0..<columns { s += Double(w[j]) * Double(x[i * columns + j]) }
                out[i * rows + o] = Float(s)
            }
        }
    }

    /// dx[N, columns] += dy[N, rows] W.
    static func backwardInput(rows: Int, columns: Int, decodeRow: (Int, UnsafeMutablePointer<Float>) -> Void,
                              _ dy: UnsafePointer<Float>, n: Int, accumulateInto dx: UnsafeMutablePointer<Float>) {
        var w = [Float](repeating: 0, count: rows * columns)
        w.withUnsafeMutableBufferPointer { p in
            for o in 0..<rows { decodeRow(o, p.baseAddress! + o * columns) }
        }
        for i in 0..<n {
            for j in 0..<columns {
                var s = 0.0
                for o in 0..<rows { s += Double(dy[i * rows + o]) * Double(w[o * columns + j]) }
                dx[i * columns + j] = Float(Double(dx[i * columns + j]) + s)
            }
        }
    }
}
