import Foundation

/// Plain scalar references for the products, used by the tests: every weight is decoded with the
/// reference decoder and every sum is accumulated in double precision.
extension QuantizedMatrix {
    /// out[N, rows] = x[N, columns] W^T with float activations.
    public func forwardReference(_ x: UnsafePointer<Float>, rows n: Int, into out: UnsafeMutablePointer<Float>) {
        var w = [Float](repeating: 0, count: columns)
        for o in 0..<rows {
            w.withUnsafeMutableBufferPointer { type.dequantizeRowReference(rowPointer(o), into: $0.baseAddress!, count: columns) }
            for i in 0..<n {
                var s = 0.0
                for j in 0..<columns { s += Double(w[j]) * Double(x[i * columns + j]) }
                out[i * rows + o] = Float(s)
            }
        }
    }

    /// y[rows] = W x as the integer kernels compute it: x quantized by `Q8Activations.reference`, then
    /// per block (weight scale) * (activation scale) * (exact integer dot), plus Q4_1's min times the
    /// activation block sum. Only for Q4_0, Q4_1 and Q8_0.
    public func gemvInt8Reference(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        precondition(type.hasIntegerKernel, "no integer kernel for \(type)")
        let a = Q8Activations.reference(x, count: columns)
        for o in 0..<rows {
            let row = rowPointer(o)
            var total = 0.0
            for b in 0..<(columns / 32) {
                let blk = row + b * type.typeSize
                var dot = 0
                var minTerm = 0.0
                switch type {
                case .q4_0, .q4_1:
                    let start = type == .q4_0 ? 2 : 4
                    let offset = type == .q4_0 ? 8 : 0
                    for j in 0..<16 {
                        let q = Int(blk.load(fromByteOffset: start + j, as: UInt8.self))
                        dot += ((q & 0x0F) - offset) * Int(a.values[32 * b + j])
                        dot += ((q >> 4) - offset) * Int(a.values[32 * b + j + 16])
                    }
                    if type == .q4_1 { minTerm = Double(BlockFields.half(blk, 2)) * Double(a.sums[b]) }
                default:
                    for j in 0..<32 { dot += Int(blk.load(fromByteOffset: 2 + j, as: Int8.self)) * Int(a.values[32 * b + j]) }
                }
                total += Double(BlockFields.half(blk, 0)) * Double(a.scales[b]) * Double(dot) + minTerm
            }
            y[o] = Float(total)
        }
    }

    /// dx[N, columns] += dy[N, rows] W.
    public func backwardInputReference(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>) {
        var w = [Float](repeating: 0, count: rows * columns)
        w.withUnsafeMutableBufferPointer { p in
            for o in 0..<rows { type.dequantizeRowReference(rowPointer(o), into: p.baseAddress! + o * columns, count: columns) }
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
