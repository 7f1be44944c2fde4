import NN
import Quantization
import Tensor

/// One-token generation on the quantized fast path (`LlamaDecodePlan`).
extension LlamaRunner {
    /// Logits [V] for `token` at the current position, written through the cache like `forward`;
    /// the caller advances `position`. Same arithmetic as the general path (same kernels, same
    /// activation quantization), fewer parallel regions and no allocation besides the logits.
    func decodeOne(_ token: Int32, plan p: LlamaDecodePlan) -> [Float] {
        let cfg = config, c = cfg.hiddenSize, qd = cfg.qDim, kd = cfg.kvDim, im = cfg.intermediateSize
        let qkvd = qd + 2 * kd, eps = cfg.rmsNormEpsilon, threads = p.threads
        embedding.row(Int(token), into: p.x)
        for (li, layer) in layers.enumerated() {
            let m = p.layers[li]
            let kc = keyCache[li].pointer, vc = valueCache[li].pointer
            timed("rmsnorm") { normalize(layer.attentionNorm, into: p.h, from: p.x, eps: eps, quantizeInto: p.hiddenQ) }
            timed("matmul qkv") {
                Parallel.forEach(threads) { w in m.qkv.gemv(quantized: p.hiddenQ, rows: p.share(qkvd, worker: w), into: p.qkv) }
            }
            timed("rope") {
                (kc + position * kd).update(from: p.qkv + qd, count: kd)
                (vc + position * kd).update(from: p.qkv + qd + kd, count: kd)
                rope.apply(p.qkv, rows: 1, seq: 1, ld: qkvd, heads: cfg.heads, startPosition: position)
                rope.apply(kc + position * kd, rows: 1, seq: 1, ld: kd, heads: cfg.kvHeads, startPosition: position)
            }
            timed("attention") { attention.attend(q: p.qkv, keys: kc, values: vc, rows: 1, start: position, scores: p.scores, out: p.att) }
            timed("matmul o") {
                p.attentionQ.quantize(p.att)
                Parallel.forEach(threads) { w in m.o.gemv(quantized: p.attentionQ, rows: p.share(c, worker: w), into: p.projection) }
                Kernels.axpy(1, p.projection, p.x, count: c)
            }
            timed("rmsnorm") { normalize(layer.mlpNorm, into: p.h, from: p.x, eps: eps, quantizeInto: p.hiddenQ) }
            timed("matmul gate/up") {
                // Each thread: its gate rows and the matching up rows, SwiGLU on them and the
                // quantization of those blocks of the result (the down product's input).
                Parallel.forEach(threads) { w in
                    let blocks = p.share(im / 32, worker: w, multiple: 1)
                    let r = (blocks.lowerBound * 32)..<(blocks.upperBound * 32)
                    if r.isEmpty { return }
                    m.gateUp.gemv(quantized: p.hiddenQ, rows: r, into: p.gateUp)
                    m.gateUp.gemv(quantized: p.hiddenQ, rows: (im + r.lowerBound)..<(im + r.upperBound), into: p.gateUp)
                    SwiGLU.forward(out: p.act + r.lowerBound, gate: p.gateUp + r.lowerBound, up: p.gateUp + im + r.lowerBound, count: r.count)
                    p.activationQ.quantize(p.act, blocks: blocks)
                }
            }
            timed("matmul down") {
                Parallel.forEach(threads) { w in m.down.gemv(quantized: p.activationQ, rows: p.share(c, worker: w), into: p.projection) }
                Kernels.axpy(1, p.projection, p.x, count: c)
            }
        }
        normalize(finalNorm, into: p.h, from: p.x, eps: eps, quantizeInto: p.hiddenQ)
        var logits = [Float](repeating: 0, count: cfg.vocabSize)
        timed("output head") {
            logits.withUnsafeMutableBufferPointer { out in
                let y = out.baseAddress!
                Parallel.forEach(threads) { w in p.head.gemv(quantized: p.hiddenQ, rows: p.share(cfg.vocabSize, worker: w), into: y) }
            }
        }
        return logits
    }

    /// h = RMSNorm(x) * weight, then h quantized into `q`.
    private func normalize(_ weight: [Float], into h: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, eps: Float,
                           quantizeInto q: Q8ActivationBuffer) {
        weight.withUnsafeBufferPointer { RMSNorm.forward(out: h, rstd: nil, inp: x, weight: $0.baseAddress!, rows: 1, channels: config.hiddenSize, eps: eps) }
        q.quantize(h)
    }
}
