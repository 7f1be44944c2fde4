import NN
import Tensor

/// The forward computation of a `BatchedPass` (rows of one or several sequences) through the
/// runner's layers: the general path of `LlamaRunner.forward` (one sequence) and every pass of
/// `LlamaBatchRunner` (several).
extension LlamaRunner {
    /// Where a sequence's cached keys and values of a layer live ([positions, kvDim] each, with room
    /// for the pass's rows).
    typealias LayerCache = (_ sequence: Int, _ layer: Int) -> (keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>)

    /// Runs `pass`, writing each segment's keys and values at its positions of `cache`; returns
    /// each segment's logits (empty when it wants none). The caller counts the positions as cached.
    func run(_ pass: BatchedPass, products: SegmentedLinearProduct, cache: LayerCache) -> [[Float]] {
        let cfg = config, n = pass.rows, lengths = pass.lengths, invariant = batchInvariant
        let c = cfg.hiddenSize, qd = cfg.qDim, kd = cfg.kvDim, im = cfg.intermediateSize, qkvd = qd + 2 * kd
        let round: (Int) -> Int = { ($0 + 15) / 16 * 16 }
        let scoreCount = pass.segments.map { invariant || $0.count == 1 ? 0 : cfg.heads * $0.count * ($0.start + $0.count) }.max() ?? 0
        let sizes = [n * c, n * c, n * qkvd, n * qd, n * 2 * im, n * im, n * c, scoreCount]
        let arena = AlignedBuffer<Float>(count: sizes.map(round).reduce(0, +))
        var cursor = arena.pointer
        func take(_ k: Int) -> UnsafeMutablePointer<Float> { defer { cursor += round(k) }; return cursor }
        let x = take(n * c), h = take(n * c), qkv = take(n * qkvd), att = take(n * qd), gu = take(n * 2 * im), act = take(n * im), tmp = take(n * c)
        let scores = take(scoreCount)
        timed("embedding") {
            for s in pass.segments { for (i, t) in s.tokens.enumerated() { embedding.row(Int(t), into: x + (s.row + i) * c) } }
        }
        for (li, layer) in layers.enumerated() {
            timed("rmsnorm") { normalize(layer.attentionNorm, x, rows: n, into: h) }
            timed("matmul qkv") { products.forward(layer.qkv, h, lengths: lengths, invariant: invariant, into: qkv) }
            timed("rope") {
                for s in pass.segments {
                    let (kc, vc) = cache(s.sequence, li)
                    let q = qkv + s.row * qkvd
                    for i in 0..<s.count {
                        (kc + (s.start + i) * kd).update(from: q + i * qkvd + qd, count: kd)
                        (vc + (s.start + i) * kd).update(from: q + i * qkvd + qd + kd, count: kd)
                    }
                    rope.apply(q, rows: s.count, seq: s.count, ld: qkvd, heads: cfg.heads, startPosition: s.start)
                    rope.apply(kc + s.start * kd, rows: s.count, seq: s.count, ld: kd, heads: cfg.kvHeads, startPosition: s.start)
                }
            }
            timed("attention") {
                // single queries (one-token segments, or every row when batch-invariant) all together,
                // each computed as a one-token step computes it; longer segments as one block each
                var queries: [CachedAttention.Query] = []
                for s in pass.segments {
                    let (kc, vc) = cache(s.sequence, li)
                    if invariant || s.count == 1 {
                        for i in 0..<s.count {
                            queries.append(.init(q: qkv + (s.row + i) * qkvd, keys: kc, values: vc, total: s.start + i + 1, out: att + (s.row + i) * qd))
                        }
                    } else {
                        attention.attend(q: qkv + s.row * qkvd, keys: kc, values: vc, rows: s.count, start: s.start, scores: scores, out: att + s.row * qd)
                    }
                }
                attention.attend(queries: queries)
            }
            timed("matmul o") { products.forward(layer.o, att, lengths: lengths, invariant: invariant, into: tmp) }
            Kernels.axpy(1, tmp, x, count: n * c)
            timed("rmsnorm") { normalize(layer.mlpNorm, x, rows: n, into: h) }
            timed("matmul gate/up") { products.forward(layer.gateUp, h, lengths: lengths, invariant: invariant, into: gu) }
            timed("swiglu") { for i in 0..<n { SwiGLU.forward(out: act + i * im, gate: gu + i * 2 * im, up: gu + i * 2 * im + im, count: im) } }
            timed("matmul down") { products.forward(layer.down, act, lengths: lengths, invariant: invariant, into: tmp) }
            Kernels.axpy(1, tmp, x, count: n * c)
        }
        // the rows that want logits, stacked most per segment first, normed into h
        let wanted = pass.logitSegments
        let logitRows = wanted.map { pass.segments[$0.segment].logitRows }
        for (si, offset) in wanted {
            let s = pass.segments[si]
            normalize(finalNorm, x + (s.row + s.count - s.logitRows) * c, rows: s.logitRows, into: h + offset * c)
        }
        let v = cfg.vocabSize, total = logitRows.reduce(0, +)
        var out = [[Float]](repeating: [], count: pass.segments.count)
        guard total > 0 else { return out }
        let logits = AlignedBuffer<Float>(count: total * v)
        timed("output head") { products.forward(head, h, lengths: logitRows, invariant: invariant, into: logits.pointer) }
        for (si, offset) in wanted {
            out[si] = Array(UnsafeBufferPointer(start: logits.pointer + offset * v, count: pass.segments[si].logitRows * v))
        }
        return out
    }

    /// RMSNorm of `rows` rows of `x` with `weight` into `out`.
    private func normalize(_ weight: [Float], _ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer {
            RMSNorm.forward(out: out, rstd: nil, inp: x, weight: $0.baseAddress!, rows: rows, channels: config.hiddenSize, eps: config.rmsNormEpsilon)
        }
    }
}
