import NN
import Tensor

/// The output head's loss (and input gradient) over only the positions that have a target:
/// instruction tuning scores a few answer tokens per row, and the vocabulary projection is the largest
/// product of a small model, so unscored rows are gathered out before projecting and the input
/// gradient is scattered back. `dense` computes the loss of a packed set of rows (every one scored);
/// with every position scored it is called on the input as it is.
enum ScoredRowsLoss {
    typealias Dense = (_ x: UnsafePointer<Float>, _ targets: UnsafePointer<Int32>, _ rows: Int,
                       _ dx: UnsafeMutablePointer<Float>?) -> ChunkedCrossEntropy.Result

    static func run(x: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows n: Int, channels c: Int,
                    dx: UnsafeMutablePointer<Float>?, dense: Dense) -> ChunkedCrossEntropy.Result {
        let kept = (0..<n).filter { targets[$0] >= 0 }
        if kept.count == n { return dense(x, targets, n, dx) }
        if kept.isEmpty { return ChunkedCrossEntropy.Result(lossSum: 0, count: 0) }
        let xs = AlignedBuffer<Float>(count: kept.count * c)
        let ts = UnsafeMutablePointer<Int32>.allocate(capacity: kept.count)
        defer { ts.deallocate() }
        for (j, i) in kept.enumerated() {
            (xs.pointer + j * c).update(from: x + i * c, count: c)
            ts[j] = targets[i]
        }
        let dxs = dx.map { _ in AlignedBuffer<Float>(count: kept.count * c) }
        let result = dense(xs.pointer, ts, kept.count, dxs?.pointer)
        if let dx, let dxs {
            for (j, i) in kept.enumerated() { Kernels.axpy(1, dxs.pointer + j * c, dx + i * c, count: c) }
        }
        return result
    }
}
