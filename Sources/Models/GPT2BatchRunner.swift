import NN
import Tensor

/// Several sequences through one `GPT2Runner`'s float32 weights per forward pass, each with its own
/// key/value cache: the new tokens of all fed sequences are stacked into one matrix of rows, the
/// linear layers run once over all of them, each row takes the position embedding of its own
/// position, and each sequence's rows attend to that sequence's cache only. Logits agree with
/// `GPT2Runner.forward` per sequence to float rounding.
public final class GPT2BatchRunner: BatchedLanguageModel, @unchecked Sendable {
    public let runner: GPT2Runner
    let cache: SequenceKVCache
    /// Positions per sequence processed in one pass (as `LlamaRunner.maxChunk`: bounds activation memory).
    public var maxChunk = 192

    /// `sequences` empty sequences over `runner`'s weights (its own cache is not used).
    public init(runner: GPT2Runner, sequences: Int) throws {
        guard sequences >= 1 else { throw ModelError.invalidInput("a batch needs at least one sequence, got \(sequences)") }
        self.runner = runner
        let cfg = runner.model.config
        cache = SequenceKVCache(sequences: sequences, layers: cfg.layers, width: cfg.embeddingSize, maxPositions: runner.maxContext)
    }

    public var vocabularySize: Int { runner.vocabularySize }
    public var maxContext: Int { runner.maxContext }
    public var sequenceCount: Int { cache.sequences }

    public func position(of sequence: Int) -> Int { cache.positions[sequence] }

    public func truncate(sequence: Int, to count: Int) throws { try cache.checkedTruncate(sequence, to: count) }

    public func copyCache(from source: Int, to destination: Int, count: Int) throws {
        try cache.checkedCopy(from: source, to: destination, count: count)
    }

    public func forward(_ feeds: [SequenceFeed]) throws -> [[Float]] {
        let schedule = try BatchedForwardSchedule(feeds, positions: cache.positions, maxContext: maxContext,
                                                  vocabularySize: vocabularySize, maxChunk: maxChunk)
        return schedule.logits(schedule.passes.map(run))
    }

    /// One pass through all layers; the logits of each segment (empty when it wants none).
    func run(_ pass: BatchedPass) -> [[Float]] {
        let model = runner.model, cfg = model.config, p = model.parameters
        let n = pass.rows, c = cfg.embeddingSize, eps = cfg.layerNormEpsilon
        let scoreCount = pass.segments.map { $0.count == 1 ? 0 : cfg.heads * $0.count * ($0.start + $0.count) }.max() ?? 0
        let x = Tensor(zeros: [n, c]), h = Tensor(zeros: [n, c]), qkv = Tensor(zeros: [n, 3 * c]), att = Tensor(zeros: [n, c])
        let fc = Tensor(zeros: [n, 4 * c]), act = Tensor(zeros: [n, 4 * c]), tmp = Tensor(zeros: [n, c])
        let mean = Tensor(zeros: [n]), rstd = Tensor(zeros: [n]), scores = Tensor(zeros: [max(1, scoreCount)])
        let hidden = Tensor(zeros: [n * max(1, cfg.lowRankRanks.values.max() ?? 0)])
        let wte = p.pointer("transformer.wte.weight"), wpe = p.pointer("transformer.wpe.weight")
        for s in pass.segments {
            cache.reserve(s.sequence, positions: s.start + s.count)
            for (i, t) in s.tokens.enumerated() { Kernels.add(wte + Int(t) * c, wpe + (s.start + i) * c, x.pointer + (s.row + i) * c, count: c) }
        }
        for l in 0..<cfg.layers {
            let w = model.weights(p, layer: l)
            LayerNorm.forward(out: h.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: x.pointer, weight: w.ln1w, bias: w.ln1b,
                              rows: n, channels: c, eps: eps)
            w.attn.forward(out: qkv.pointer, inp: h.pointer, hidden: hidden.pointer, rows: n)
            // one-token segments (generation steps) attend together, each as a one-token step does
            var queries: [CachedAttention.Query] = []
            for s in pass.segments {
                let kc = cache.keys(s.sequence, layer: l), vc = cache.values(s.sequence, layer: l)
                let q = qkv.pointer + s.row * 3 * c
                for i in 0..<s.count {
                    (kc + (s.start + i) * c).update(from: q + i * 3 * c + c, count: c)
                    (vc + (s.start + i) * c).update(from: q + i * 3 * c + 2 * c, count: c)
                }
                if s.count == 1 {
                    queries.append(.init(q: q, keys: kc, values: vc, total: s.start + 1, out: att.pointer + s.row * c))
                } else {
                    runner.attention.attend(q: q, keys: kc, values: vc, rows: s.count, start: s.start, scores: scores.pointer, out: att.pointer + s.row * c)
                }
            }
            runner.attention.attend(queries: queries)
            w.proj.forward(out: tmp.pointer, inp: att.pointer, hidden: hidden.pointer, rows: n)
            Kernels.axpy(1, tmp.pointer, x.pointer, count: n * c)
            LayerNorm.forward(out: h.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: x.pointer, weight: w.ln2w, bias: w.ln2b,
                              rows: n, channels: c, eps: eps)
            w.fc.forward(out: fc.pointer, inp: h.pointer, hidden: hidden.pointer, rows: n)
            GELU.forward(out: act.pointer, inp: fc.pointer, count: n * 4 * c)
            w.fcProj.forward(out: tmp.pointer, inp: act.pointer, hidden: hidden.pointer, rows: n)
            Kernels.axpy(1, tmp.pointer, x.pointer, count: n * c)
        }
        for s in pass.segments { cache.advance(s.sequence, by: s.count) }
        // the rows that want logits, stacked, normed into h
        let wanted = pass.logitSegments
        for (si, offset) in wanted {
            let s = pass.segments[si]
            LayerNorm.forward(out: h.pointer + offset * c, mean: mean.pointer, rstd: rstd.pointer, inp: x.pointer + (s.row + s.count - s.logitRows) * c,
                              weight: p.pointer("transformer.ln_f.weight"), bias: p.pointer("transformer.ln_f.bias"),
                              rows: s.logitRows, channels: c, eps: eps)
        }
        let v = cfg.vocabSize, total = wanted.reduce(0) { $0 + pass.segments[$1.segment].logitRows }
        var out = [[Float]](repeating: [], count: pass.segments.count)
        guard total > 0 else { return out }
        let logits = AlignedBuffer<Float>(count: total * v)
        Linear.forward(out: logits.pointer, inp: h.pointer, weight: wte, bias: nil, rows: total, inFeatures: c, outFeatures: v)
        for (si, offset) in wanted {
            out[si] = Array(UnsafeBufferPointer(start: logits.pointer + offset * v, count: pass.segments[si].logitRows * v))
        }
        return out
    }
}
