import Foundation
import NN
import Tensor

/// A GPT-2 language model: learned token and position embeddings, pre-norm transformer blocks
/// (LayerNorm, causal self-attention, LayerNorm, GELU MLP), a final LayerNorm and an output head tied
/// to the token embedding. Parameter names follow nanoGPT (`transformer.h.0.attn.c_attn.weight`, ...)
/// with PyTorch nn.Linear layouts ([out, in]).
public final class GPT2Model: @unchecked Sendable {
    public let config: GPT2Config
    public let parameters: ParameterStore
    public let gradients: ParameterStore
    /// Keep only each block's input during forward and recompute the block inside backward.
    public var recompute: Bool {
        didSet { if recompute != oldValue { activations = nil } }
    }

    var activations: GPT2Activations?
    /// When set, forward and backward phases are timed into it (benchmarks and profiles).
    public var profiler: PhaseTimer?
    /// Called from backward as each gradient group becomes final (data-parallel bucket overlap).
    public var gradientReadyHook: ((GradientGroup) -> Void)?

    @inline(__always)
    func timed(_ name: String, _ body: () -> Void) {
        if let profiler { profiler.measure(name, body) } else { body() }
    }
    var lossHead: ChunkedCrossEntropy
    /// Positions per chunk of the fused output head and loss (scratch = chunk x vocab floats).
    public var lossChunkRows: Int {
        get { lossHead.chunkRows }
        set { lossHead = ChunkedCrossEntropy(vocab: config.vocabSize, chunkRows: newValue) }
    }
    var lastForward: (batch: Int, seq: Int, withTargets: Bool)?

    public init(config: GPT2Config, recompute: Bool = false) throws {
        try config.validate()
        self.config = config
        self.recompute = recompute
        parameters = ParameterStore(layout: GPT2Model.layout(config))
        gradients = parameters.makeSibling()
        lossHead = ChunkedCrossEntropy(vocab: config.vocabSize)
    }

    /// A model with GPT-2's initialisation: normal(0, 0.02) weights and embeddings, zero biases, unit
    /// LayerNorm scales, and residual output projections scaled by 1/sqrt(2 * layers).
    public convenience init(config: GPT2Config, seed: UInt64, recompute: Bool = false) throws {
        try self.init(config: config, recompute: recompute)
        var rng = RandomGenerator(seed: seed)
        let residualStd = Float(0.02 / (2.0 * Double(config.layers)).squareRoot())
        let modules = Dictionary(uniqueKeysWithValues: config.linearModules.map { ($0.name, $0) })
        for e in parameters.entries {
            let t = parameters[e.name]
            if e.name.hasSuffix("ln_1.weight") || e.name.hasSuffix("ln_2.weight") || e.name.hasSuffix("ln_f.weight") {
                t.fill(1)
            } else if e.name.hasSuffix(".bias") {
                t.zero()
            } else if e.name.hasSuffix(".A.weight") {
                // a factorised layer: A and B together reproduce the dense layer's output variance
                let module = String(e.name.dropLast(".A.weight".count)), m = modules[module]!
                LowRankInitialization.initialize(weightA: t.pointer, weightB: parameters.pointer(module + ".B.weight"),
                                                 inFeatures: m.inFeatures, outFeatures: m.outFeatures, rank: e.shape[0],
                                                 denseStd: module.hasSuffix("c_proj") ? residualStd : 0.02, rng: &rng)
            } else if e.name.hasSuffix(".B.weight") {
                continue
            } else if e.name.hasSuffix("c_proj.weight") {
                rng.fillNormal(t.buffer, std: residualStd)
            } else {
                rng.fillNormal(t.buffer, std: 0.02)
            }
        }
    }

    public static func layout(_ config: GPT2Config) -> [(String, [Int])] {
        let c = config.embeddingSize
        var out: [(String, [Int])] = [
            ("transformer.wte.weight", [config.vocabSize, c]),
            ("transformer.wpe.weight", [config.contextLength, c]),
        ]
        func linear(_ module: String, _ inF: Int, _ outF: Int) -> [(String, [Int])] {
            if let r = config.lowRankRanks[module] {
                return [(module + ".A.weight", [r, inF]), (module + ".B.weight", [outF, r]), (module + ".bias", [outF])]
            }
            return [(module + ".weight", [outF, inF]), (module + ".bias", [outF])]
        }
        for l in 0..<config.layers {
            let p = "transformer.h.\(l)."
            out += [(p + "ln_1.weight", [c]), (p + "ln_1.bias", [c])]
            out += linear(p + "attn.c_attn", c, 3 * c) + linear(p + "attn.c_proj", c, c)
            out += [(p + "ln_2.weight", [c]), (p + "ln_2.bias", [c])]
            out += linear(p + "mlp.c_fc", c, 4 * c) + linear(p + "mlp.c_proj", 4 * c, c)
        }
        out += [("transformer.ln_f.weight", [c]), ("transformer.ln_f.bias", [c])]
        return out
    }

    /// Bytes held by the activation arena for the current batch shape (0 before the first forward).
    public var activationBytes: Int { activations?.bytes ?? 0 }

    // MARK: forward

    func prepare(batch: Int, seq: Int) throws -> GPT2Activations {
        guard batch > 0, seq > 0 else { throw ModelError.invalidInput("batch (\(batch)) and sequence length (\(seq)) must be positive") }
        guard seq <= config.contextLength else {
            throw ModelError.invalidInput("sequence length \(seq) exceeds the model's context length \(config.contextLength)")
        }
        if let a = activations, a.batch == batch, a.seq == seq, a.recompute == recompute { return a }
        activations = nil
        let a = GPT2Activations(config: config, batch: batch, seq: seq, recompute: recompute)
        activations = a
        return a
    }

    struct Weights {
        let ln1w, ln1b, ln2w, ln2b: UnsafeMutablePointer<Float>
        let attn, proj, fc, fcProj: LinearLayerWeights
    }

    func linearWeights(_ store: ParameterStore, _ module: String, _ inF: Int, _ outF: Int) -> LinearLayerWeights {
        if let r = config.lowRankRanks[module] {
            return LinearLayerWeights(a: store.pointer(module + ".A.weight"), b: store.pointer(module + ".B.weight"),
                                      bias: store.pointer(module + ".bias"), inFeatures: inF, outFeatures: outF, rank: r)
        }
        return LinearLayerWeights(weight: store.pointer(module + ".weight"), bias: store.pointer(module + ".bias"), inFeatures: inF, outFeatures: outF)
    }

    func weights(_ store: ParameterStore, layer l: Int) -> Weights {
        let p = "transformer.h.\(l).", c = config.embeddingSize
        return Weights(ln1w: store.pointer(p + "ln_1.weight"), ln1b: store.pointer(p + "ln_1.bias"),
                       ln2w: store.pointer(p + "ln_2.weight"), ln2b: store.pointer(p + "ln_2.bias"),
                       attn: linearWeights(store, p + "attn.c_attn", c, 3 * c), proj: linearWeights(store, p + "attn.c_proj", c, c),
                       fc: linearWeights(store, p + "mlp.c_fc", c, 4 * c), fcProj: linearWeights(store, p + "mlp.c_proj", 4 * c, c))
    }

    /// One block: out = x + proj(attn(ln1(x))); out += mlp(ln2(out)).
    func blockForward(_ l: Int, _ a: GPT2Activations) {
        let c = config.embeddingSize, n = a.batch * a.seq, eps = config.layerNormEpsilon
        let w = weights(parameters, layer: l)
        let s = a.block(l)
        let x = a.residuals[l], out = a.residuals[l + 1]
        timed("fwd layernorm") { LayerNorm.forward(out: s.ln1, mean: s.ln1Mean, rstd: s.ln1Rstd, inp: x, weight: w.ln1w, bias: w.ln1b, rows: n, channels: c, eps: eps) }
        timed("fwd matmul qkv") { w.attn.forward(out: s.qkv, inp: s.ln1, hidden: s.hAttn, rows: n) }
        timed("fwd attention") { CausalSelfAttention.forward(out: s.atty, att: s.att, qkv: s.qkv, batch: a.batch, seq: a.seq, channels: c, heads: config.heads) }
        timed("fwd matmul attn proj") { w.proj.forward(out: s.res2, inp: s.atty, hidden: s.hProj, rows: n) }
        timed("fwd residual") { Residual.forward(out: s.res2, a: s.res2, b: x, count: n * c) }
        timed("fwd layernorm") { LayerNorm.forward(out: s.ln2, mean: s.ln2Mean, rstd: s.ln2Rstd, inp: s.res2, weight: w.ln2w, bias: w.ln2b, rows: n, channels: c, eps: eps) }
        timed("fwd matmul fc") { w.fc.forward(out: s.fch, inp: s.ln2, hidden: s.hFC, rows: n) }
        timed("fwd gelu") { GELU.forward(out: s.fchGelu, inp: s.fch, count: 4 * n * c) }
        timed("fwd matmul fc proj") { w.fcProj.forward(out: out, inp: s.fchGelu, hidden: s.hFCProj, rows: n) }
        timed("fwd residual") { Residual.forward(out: out, a: out, b: s.res2, count: n * c) }
    }

    /// Runs embeddings, all blocks and the final LayerNorm for `tokens` [B,T]; returns the arena.
    @discardableResult
    func forwardHidden(tokens: UnsafePointer<Int32>, batch: Int, seq: Int) throws -> GPT2Activations {
        let a = try prepare(batch: batch, seq: seq)
        let n = batch * seq, c = config.embeddingSize
        for i in 0..<n {
            guard tokens[i] >= 0, Int(tokens[i]) < config.vocabSize else {
                throw ModelError.invalidInput("token id \(tokens[i]) at position \(i) is outside the vocabulary of \(config.vocabSize)")
            }
        }
        a.tokens.update(from: tokens, count: n)
        timed("embedding") { Embedding.forward(out: a.residuals[0], tokens: a.tokens, wte: parameters.pointer("transformer.wte.weight"),
                          wpe: parameters.pointer("transformer.wpe.weight"), batch: batch, seq: seq, channels: c) }
        for l in 0..<config.layers { blockForward(l, a) }
        LayerNorm.forward(out: a.lnf, mean: a.lnfMean, rstd: a.lnfRstd, inp: a.residuals[config.layers],
                          weight: parameters.pointer("transformer.ln_f.weight"), bias: parameters.pointer("transformer.ln_f.bias"),
                          rows: n, channels: c, eps: config.layerNormEpsilon)
        return a
    }

    /// Mean cross-entropy of predicting `targets` (ignored where negative) from `tokens`, both [B,T],
    /// without touching gradients.
    public func loss(tokens: [Int32], targets: [Int32], batch: Int, seq: Int) throws -> ChunkedCrossEntropy.Result {
        try checkShapes(tokens: tokens, targets: targets, batch: batch, seq: seq)
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        lastForward = nil
        return targets.withUnsafeBufferPointer { t in
            lossHead.run(x: a.lnf, weight: parameters.pointer("transformer.wte.weight"), targets: t.baseAddress!,
                         rows: batch * seq, channels: config.embeddingSize, dx: nil, dweight: nil)
        }
    }

    /// Logits [B,T,V] for every position (for tests and small inputs; sampling uses `lastLogits`).
    public func logits(tokens: [Int32], batch: Int, seq: Int) throws -> Tensor {
        guard tokens.count == batch * seq else { throw ModelError.invalidInput("\(tokens.count) tokens for batch \(batch) x seq \(seq)") }
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        let out = Tensor(zeros: [batch, seq, config.vocabSize])
        Linear.forward(out: out.pointer, inp: a.lnf, weight: parameters.pointer("transformer.wte.weight"), bias: nil,
                       rows: batch * seq, inFeatures: config.embeddingSize, outFeatures: config.vocabSize)
        return out
    }

    /// Logits [V] of the last position of a single sequence.
    public func lastLogits(tokens: [Int32]) throws -> [Float] {
        let t = tokens.count
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: 1, seq: t) }
        var out = [Float](repeating: 0, count: config.vocabSize)
        out.withUnsafeMutableBufferPointer { o in
            Linear.forward(out: o.baseAddress!, inp: a.lnf + (t - 1) * config.embeddingSize,
                           weight: parameters.pointer("transformer.wte.weight"), bias: nil,
                           rows: 1, inFeatures: config.embeddingSize, outFeatures: config.vocabSize)
        }
        return out
    }

    func checkShapes(tokens: [Int32], targets: [Int32], batch: Int, seq: Int) throws {
        guard tokens.count == batch * seq, targets.count == batch * seq else {
            throw ModelError.invalidInput("expected \(batch * seq) tokens and targets for batch \(batch) x seq \(seq), got \(tokens.count) and \(targets.count)")
        }
        try targets.withUnsafeBufferPointer { try ChunkedCrossEntropy.validate(targets: $0.baseAddress!, count: targets.count, vocab: config.vocabSize) }
    }

    // MARK: forward + backward

    /// Forward and backward for one micro-batch: returns its loss and ACCUMULATES parameter gradients
    /// of (sum of position losses) x `gradScale` into `gradients`. Pass gradScale = 1 / (positions
    /// counted over the whole optimizer batch) for a mean loss across gradient-accumulation steps.
    public func forwardBackward(tokens: [Int32], targets: [Int32], batch: Int, seq: Int, gradScale: Float) throws -> ChunkedCrossEntropy.Result {
        try checkShapes(tokens: tokens, targets: targets, batch: batch, seq: seq)
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        let n = batch * seq, c = config.embeddingSize
        let g = gradients
        a.targets.update(from: targets, count: n)
        // output head + loss, giving d(lnf) and d(wte)
        a.dln.update(repeating: 0, count: n * c)
        var result = ChunkedCrossEntropy.Result(lossSum: 0, count: 0)
        timed("output head + loss") { result = lossHead.run(x: a.lnf, weight: parameters.pointer("transformer.wte.weight"), targets: a.targets,
                                  rows: n, channels: c, dx: a.dln, dweight: g.pointer("transformer.wte.weight"), gradScale: gradScale) }
        a.dres.update(repeating: 0, count: n * c)
        LayerNorm.backward(dinp: a.dres, dweight: g.pointer("transformer.ln_f.weight"), dbias: g.pointer("transformer.ln_f.bias"),
                           dout: a.dln, inp: a.residuals[config.layers], weight: parameters.pointer("transformer.ln_f.weight"),
                           mean: a.lnfMean, rstd: a.lnfRstd, rows: n, channels: c)
        gradientReadyHook?(.head)
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            if recompute { timed("recompute") { blockForward(l, a) } }
            blockBackward(l, a)
            gradientReadyHook?(.block(l))
        }
        timed("embedding") { Embedding.backward(dwte: g.pointer("transformer.wte.weight"), dwpe: g.pointer("transformer.wpe.weight"),
                           dout: a.dres, tokens: a.tokens, batch: batch, seq: seq, channels: c) }
        gradientReadyHook?(.embedding)
        return result
    }

    /// Backward through block `l`: on entry a.dres holds d(block output); on exit d(block input).
    func blockBackward(_ l: Int, _ a: GPT2Activations) {
        let c = config.embeddingSize, n = a.batch * a.seq
        let w = weights(parameters, layer: l)
        let gw = weights(gradients, layer: l)
        let s = a.block(l)
        let x = a.residuals[l]
        // MLP: out = res2 + c_proj(gelu(c_fc(ln2(res2))))
        timed("bwd zero scratch") { a.dgelu.update(repeating: 0, count: 4 * n * c) }
        timed("bwd matmul fc proj") { w.fcProj.backward(grads: gw.fcProj, dinp: a.dgelu, dout: a.dres, inp: s.fchGelu, hidden: s.hFCProj, scratch: a.dhidden, rows: n) }
        timed("bwd zero scratch") { a.dfch.update(repeating: 0, count: 4 * n * c) }
        timed("bwd gelu") { GELU.backward(dinp: a.dfch, inp: s.fch, dout: a.dgelu, count: 4 * n * c) }
        timed("bwd zero scratch") { a.dln.update(repeating: 0, count: n * c) }
        timed("bwd matmul fc") { w.fc.backward(grads: gw.fc, dinp: a.dln, dout: a.dfch, inp: s.ln2, hidden: s.hFC, scratch: a.dhidden, rows: n) }
        timed("bwd layernorm") { LayerNorm.backward(dinp: a.dres, dweight: gw.ln2w, dbias: gw.ln2b, dout: a.dln, inp: s.res2, weight: w.ln2w, mean: s.ln2Mean, rstd: s.ln2Rstd, rows: n, channels: c) }
        // attention: res2 = x + c_proj(attn(c_attn(ln1(x))))
        timed("bwd zero scratch") { a.datty.update(repeating: 0, count: n * c) }
        timed("bwd matmul attn proj") { w.proj.backward(grads: gw.proj, dinp: a.datty, dout: a.dres, inp: s.atty, hidden: s.hProj, scratch: a.dhidden, rows: n) }
        timed("bwd zero scratch") { a.dqkv.update(repeating: 0, count: 3 * n * c) }
        timed("bwd attention") { CausalSelfAttention.backward(dqkv: a.dqkv, dout: a.datty, qkv: s.qkv, att: s.att, batch: a.batch, seq: a.seq, channels: c, heads: config.heads) }
        timed("bwd zero scratch") { a.dln.update(repeating: 0, count: n * c) }
        timed("bwd matmul qkv") { w.attn.backward(grads: gw.attn, dinp: a.dln, dout: a.dqkv, inp: s.ln1, hidden: s.hAttn, scratch: a.dhidden, rows: n) }
        timed("bwd layernorm") { LayerNorm.backward(dinp: a.dres, dweight: gw.ln1w, dbias: gw.ln1b, dout: a.dln, inp: x, weight: w.ln1w, mean: s.ln1Mean, rstd: s.ln1Rstd, rows: n, channels: c) }
    }

    public func zeroGradients() { gradients.buffer.zero() }
}
