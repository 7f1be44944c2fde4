import NN
import Quantization
import Tensor

/// Products y = x W^T of a `LinearMap` with the rows of a `BatchedPass`, where each segment's rows
/// get the arithmetic the single-sequence runner gives an input of that many rows, so that a
/// sequence's logits depend on what else is in the batch only through float rounding (which can
/// move an 8-bit activation across a rounding boundary now and then).
///
/// For quantized weights that matters: the runner multiplies short inputs (at most the matrix's
/// `gemvMaxBatch` rows, e.g. one generated token) by matrix-vector products with 8-bit activations,
/// and longer ones (prompts) by float tiles. Here the rows of long segments (a prefix of the pass)
/// go through the tiled product together, and the rows of short segments through one several-vector
/// integer product (`QuantizedMatrix.gemm(quantized:...)`) that reads the weights once for all of
/// them: batched generation streams each matrix once per step instead of once per sequence. Its
/// thread split is the one of `LlamaDecodePlan`, so a generated token's logits are bit for bit the
/// single-sequence ones. Other maps take all rows in one product.
///
/// `invariant` (the runner's `batchInvariant`) gives every row of Q4_0/Q4_1/Q8_0 weights the
/// 8-bit one-token arithmetic, long segments included, and adds LoRA adapters row by row, so that
/// a row's result depends on that row alone.
final class SegmentedLinearProduct {
    let threads: Int
    /// Reused Q8 activation storage per input width.
    private var activations: [Int: Q8ActivationBatch] = [:]

    init(threads: Int = Parallel.threadCount) {
        self.threads = threads
    }

    /// out[rows, outFeatures] = x[rows, inFeatures] W^T for segments of `lengths` rows (longest first).
    func forward(_ map: LinearMap, _ x: UnsafePointer<Float>, lengths: [Int], invariant: Bool, into out: UnsafeMutablePointer<Float>) {
        let total = lengths.reduce(0, +)
        if total == 0 { return }
        switch map {
        case let q as QuantizedLinearMap where q.matrix.type != .f32:
            forward(q.matrix, x, lengths: lengths, total: total, invariant: invariant, into: out)
        case let adapted as AdaptedLinearMap:
            forward(adapted.base, x, lengths: lengths, invariant: invariant, into: out)
            if invariant { addAdaptersByRow(adapted, x, rows: total, into: out) } else { addAdapters(adapted, x, rows: total, into: out) }
        default:
            map.forward(x, rows: total, into: out)
        }
    }

    private func forward(_ m: QuantizedMatrix, _ x: UnsafePointer<Float>, lengths: [Int], total: Int, invariant: Bool,
                         into out: UnsafeMutablePointer<Float>) {
        let integer = m.gemvActivations == .int8 && m.type.hasIntegerKernel
        let long = invariant && integer ? 0 : lengths.filter { $0 > m.tuning.gemvMaxBatch }.reduce(0, +)
        if long > 0 { m.forward(x, rows: long, into: out) }
        let short = total - long
        guard short > 0 else { return }
        let xs = x + long * m.columns, ys = out + long * m.rows
        guard integer else {
            for i in 0..<short { m.gemv(xs + i * m.columns, into: ys + i * m.rows) }
            return
        }
        let q = batch(width: m.columns, vectors: short)
        Parallel.forEachChunk(short, minPerThread: 32) { rows in for i in rows { q.quantize(xs + i * m.columns, into: i) } }
        let threads = self.threads
        Parallel.forEach(threads) { w in
            m.gemm(quantized: q, vectors: short, rows: RowShares.share(m.rows, worker: w, threads: threads), into: ys, ldy: m.rows)
        }
    }

    /// The adapters' scaling * B (A x) added to their output rows (as `AdaptedLinearMap.forward`).
    private func addAdapters(_ map: AdaptedLinearMap, _ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        for d in map.deltas {
            let rank = d.a.shape[0]
            let h = AlignedBuffer<Float>(count: rows * rank)
            BLAS.gemm(transB: true, m: rows, n: rank, k: map.inFeatures, a: x, b: d.a.pointer, c: h.pointer)
            BLAS.gemm(transB: true, m: rows, n: d.b.shape[0], k: rank, alpha: d.scaling, a: h.pointer, b: d.b.pointer,
                      beta: 1, c: out + d.rowOffset, ldc: map.outFeatures)
        }
    }

    /// As `addAdapters`, each row on its own (dot products in a fixed order, whatever the row count).
    private func addAdaptersByRow(_ map: AdaptedLinearMap, _ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        for d in map.deltas {
            let rank = d.a.shape[0], width = d.b.shape[0]
            let h = AlignedBuffer<Float>(count: rank)
            for r in 0..<rows {
                let xr = x + r * map.inFeatures, yr = out + r * map.outFeatures + d.rowOffset
                for k in 0..<rank { h.pointer[k] = Kernels.dot(xr, d.a.pointer + k * map.inFeatures, count: map.inFeatures) }
                for j in 0..<width { yr[j] += d.scaling * Kernels.dot(h.pointer, d.b.pointer + j * rank, count: rank) }
            }
        }
    }

    private func batch(width: Int, vectors: Int) -> Q8ActivationBatch {
        if let b = activations[width] { b.reserve(vectors); return b }
        let b = Q8ActivationBatch(count: width, vectors: vectors)
        activations[width] = b
        return b
    }
}
