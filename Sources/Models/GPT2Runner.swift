import Foundation
import NN
import Tensor

/// Inference for GPT-2 models with a key/value cache, over a float32 `GPT2Model`'s weights.
public final class GPT2Runner: CausalLanguageModel, @unchecked Sendable {
    public let model: GPT2Model
    public let maxContext: Int
    public private(set) var position = 0
    let keyCache: [AlignedBuffer<Float>]
    let valueCache: [AlignedBuffer<Float>]
    let attention: CachedAttention

    public init(model: GPT2Model) {
        self.model = model
        maxContext = model.config.contextLength
        let c = model.config.embeddingSize
        keyCache = (0..<model.config.layers).map { _ in AlignedBuffer<Float>(count: model.config.contextLength * c) }
        valueCache = (0..<model.config.layers).map { _ in AlignedBuffer<Float>(count: model.config.contextLength * c) }
        attention = CachedAttention(heads: model.config.heads, kvHeads: model.config.heads, headDim: model.config.headSize,
                                    ldq: 3 * c, ldkv: c, ldo: c)
    }

    public var vocabularySize: Int { model.config.vocabSize }
    public func reset() { position = 0 }
    /// Drops cached positions beyond `count` (e.g. to reuse a shared prompt prefix).
    public func truncate(to count: Int) { position = min(position, max(0, count)) }

    public func forward(_ tokens: [Int32], allLogits: Bool = false) throws -> [Float] {
        let cfg = model.config, p = model.parameters
        let n = tokens.count, c = cfg.embeddingSize, nh = cfg.heads
        guard n > 0 else { throw ModelError.invalidInput("no tokens to process") }
        guard position + n <= maxContext else {
            throw ModelError.invalidInput("context full: \(position) cached + \(n) new tokens exceed \(maxContext) positions")
        }
        for (i, t) in tokens.enumerated() where t < 0 || Int(t) >= cfg.vocabSize {
            throw ModelError.invalidInput("token id \(t) at position \(i) is outside the vocabulary of \(cfg.vocabSize)")
        }
        let total = position + n
        let x = Tensor(zeros: [n, c]), h = Tensor(zeros: [n, c]), qkv = Tensor(zeros: [n, 3 * c]), att = Tensor(zeros: [n, c])
        let fc = Tensor(zeros: [n, 4 * c]), act = Tensor(zeros: [n, 4 * c]), tmp = Tensor(zeros: [n, c])
        let mean = Tensor(zeros: [n]), rstd = Tensor(zeros: [n]), scores = Tensor(zeros: [nh, n, total])
        let hidden = Tensor(zeros: [n * max(1, cfg.lowRankRanks.values.max() ?? 0)])
        let wte = p.pointer("transformer.wte.weight"), wpe = p.pointer("transformer.wpe.weight")
        for i in 0..<n { Kernels.add(wte + Int(tokens[i]) * c, wpe + (position + i) * c, x.pointer + i * c, count: c) }
        for l in 0..<cfg.layers {
            let w = model.weights(p, layer: l)
            let kc = keyCache[l].pointer, vc = valueCache[l].pointer
            LayerNorm.forward(out: h.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: x.pointer, weight: w.ln1w, bias: w.ln1b,
                              rows: n, channels: c, eps: cfg.layerNormEpsilon)
            w.attn.forward(out: qkv.pointer, inp: h.pointer, hidden: hidden.pointer, rows: n)
            for i in 0..<n {
                (kc + (position + i) * c).update(from: qkv.pointer + i * 3 * c + c, count: c)
                (vc + (position + i) * c).update(from: qkv.pointer + i * 3 * c + 2 * c, count: c)
            }
            attention.attend(q: qkv.pointer, keys: kc, values: vc, rows: n, start: position, scores: scores.pointer, out: att.pointer)
            w.proj.forward(out: tmp.pointer, inp: att.pointer, hidden: hidden.pointer, rows: n)
            Kernels.axpy(1, tmp.pointer, x.pointer, count: n * c)
            LayerNorm.forward(out: h.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: x.pointer, weight: w.ln2w, bias: w.ln2b,
                              rows: n, channels: c, eps: cfg.layerNormEpsilon)
            w.fc.forward(out: fc.pointer, inp: h.pointer, hidden: hidden.pointer, rows: n)
            GELU.forward(out: act.pointer, inp: fc.pointer, count: n * 4 * c)
            w.fcProj.forward(out: tmp.pointer, inp: act.pointer, hidden: hidden.pointer, rows: n)
            Kernels.axpy(1, tmp.pointer, x.pointer, count: n * c)
        }
        let first = allLogits ? 0 : n - 1, rows = n - first
        LayerNorm.forward(out: h.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: x.pointer + first * c,
                          weight: p.pointer("transformer.ln_f.weight"), bias: p.pointer("transformer.ln_f.bias"),
                          rows: rows, channels: c, eps: cfg.layerNormEpsilon)
        var logits = [Float](repeating: 0, count: rows * cfg.vocabSize)
        logits.withUnsafeMutableBufferPointer {
            Linear.forward(out: $0.baseAddress!, inp: h.pointer, weight: wte, bias: nil, rows: rows, inFeatures: c, outFeatures: cfg.vocabSize)
        }
        position += n
        return logits
    }
}

extension GPT2Runner: BatchableLanguageModel {
    /// A `GPT2BatchRunner` over this runner's weights.
    public func makeBatchedModel(sequences: Int) throws -> BatchedLanguageModel {
        try GPT2BatchRunner(runner: self, sequences: sequences)
    }
}
