import Foundation
import NN
import Tensor

/// A LLaMA-architecture language model in float32 for training: token embedding, pre-norm blocks
/// (RMSNorm, grouped-query attention with rotary embeddings, RMSNorm, SwiGLU MLP), a final RMSNorm
/// and an output head (tied to the embedding or separate). Parameter names and layouts are Hugging
/// Face's (`model.layers.0.self_attn.q_proj.weight`, [out, in], rotate-half rotary layout).
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    public let parameters: ParameterStore
    public let gradients: ParameterStore
    public var recompute: Bool {
        didSet { if recompute != oldValue { activations = nil } }
    }
    public var profiler: PhaseTimer?
    public let rope: RotaryEmbedding

    var activations: LlamaActivations?
    var lossHead: ChunkedCrossEntropy

    public init(config: LlamaConfig, recompute: Bool = false) throws {
        try config.validate()
        self.config = config
        self.recompute = recompute
        parameters = ParameterStore(layout: LlamaModel.layout(config))
        gradients = parameters.makeSibling()
        lossHead = ChunkedCrossEntropy(vocab: config.vocabSize)
        rope = RotaryEmbedding(headDim: config.headDim, maxPositions: config.contextLength, base: config.ropeTheta)
    }

    /// Random initialisation as Hugging Face's LlamaPreTrainedModel: normal(0, 0.02) matrices, unit norms.
    public convenience init(config: LlamaConfig, seed: UInt64, recompute: Bool = false) throws {
        try self.init(config: config, recompute: recompute)
        var rng = RandomGenerator(seed: seed)
        let modules = Dictionary(uniqueKeysWithValues: config.linearModules.map { ($0.name, $0) })
        for e in parameters.entries {
            let t = parameters[e.name]
            if e.shape.count == 1 {
                t.fill(1)
            } else if e.name.hasSuffix(".A.weight") {
                // a factorised layer: A and B together reproduce the dense layer's output variance
                let module = String(e.name.dropLast(".A.weight".count)), m = modules[module]!
                LowRankInitialization.initialize(weightA: t.pointer, weightB: parameters.pointer(module + ".B.weight"),
                                                 inFeatures: m.inFeatures, outFeatures: m.outFeatures, rank: e.shape[0],
                                                 denseStd: 0.02, rng: &rng)
            } else if e.name.hasSuffix(".B.weight") {
                continue
            } else {
                rng.fillNormal(t.buffer, std: 0.02)
            }
        }
    }

    public static func layout(_ cfg: LlamaConfig) -> [(String, [Int])] {
        let c = cfg.hiddenSize
        var out: [(String, [Int])] = [("model.embed_tokens.weight", [cfg.vocabSize, c])]
        func linear(_ module: String, _ inF: Int, _ outF: Int) -> [(String, [Int])] {
            if let r = cfg.lowRankRanks[module] { return [(module + ".A.weight", [r, inF]), (module + ".B.weight", [outF, r])] }
            return [(module + ".weight", [outF, inF])]
        }
        for l in 0..<cfg.layers {
            let p = "model.layers.\(l)."
            out.append((p + "input_layernorm.weight", [c]))
            out += linear(p + "self_attn.q_proj", c, cfg.qDim) + linear(p + "self_attn.k_proj", c, cfg.kvDim)
            out += linear(p + "self_attn.v_proj", c, cfg.kvDim) + linear(p + "self_attn.o_proj", cfg.qDim, c)
            out.append((p + "post_attention_layernorm.weight", [c]))
            out += linear(p + "mlp.gate_proj", c, cfg.intermediateSize) + linear(p + "mlp.up_proj", c, cfg.intermediateSize)
            out += linear(p + "mlp.down_proj", cfg.intermediateSize, c)
        }
        out.append(("model.norm.weight", [c]))
        if !cfg.tieWordEmbeddings { out.append(("lm_head.weight", [cfg.vocabSize, c])) }
        return out
    }

    var headName: String { config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight" }

    @inline(__always)
    func timed(_ name: String, _ body: () -> Void) {
        if let profiler { profiler.measure(name, body) } else { body() }
    }

    struct Weights {
        let ln1, ln2: UnsafeMutablePointer<Float>
        let q, k, v, o, gate, up, down: LinearLayerWeights
    }

    func linearWeights(_ store: ParameterStore, _ module: String, _ inF: Int, _ outF: Int) -> LinearLayerWeights {
        if let r = config.lowRankRanks[module] {
            return LinearLayerWeights(a: store.pointer(module + ".A.weight"), b: store.pointer(module + ".B.weight"), bias: nil,
                                      inFeatures: inF, outFeatures: outF, rank: r)
        }
        return LinearLayerWeights(weight: store.pointer(module + ".weight"), bias: nil, inFeatures: inF, outFeatures: outF)
    }

    func weights(_ s: ParameterStore, layer l: Int) -> Weights {
        let p = "model.layers.\(l).", c = config.hiddenSize, im = config.intermediateSize
        return Weights(ln1: s.pointer(p + "input_layernorm.weight"), ln2: s.pointer(p + "post_attention_layernorm.weight"),
                       q: linearWeights(s, p + "self_attn.q_proj", c, config.qDim), k: linearWeights(s, p + "self_attn.k_proj", c, config.kvDim),
                       v: linearWeights(s, p + "self_attn.v_proj", c, config.kvDim), o: linearWeights(s, p + "self_attn.o_proj", config.qDim, c),
                       gate: linearWeights(s, p + "mlp.gate_proj", c, im), up: linearWeights(s, p + "mlp.up_proj", c, im),
                       down: linearWeights(s, p + "mlp.down_proj", im, c))
    }

    func attentionLayout(_ a: LlamaActivations) -> CausalSelfAttention.Layout {
        CausalSelfAttention.Layout(batch: a.batch, seq: a.seq, heads: config.heads, kvHeads: config.kvHeads, headDim: config.headDim,
                                   ldq: config.qDim, ldk: config.kvDim, ldv: config.kvDim, ldo: config.qDim)
    }

    func prepare(batch: Int, seq: Int) throws -> LlamaActivations {
        guard batch > 0, seq > 0 else { throw ModelError.invalidInput("batch (\(batch)) and sequence length (\(seq)) must be positive") }
        guard seq <= config.contextLength else {
            throw ModelError.invalidInput("sequence length \(seq) exceeds the model's context length \(config.contextLength)")
        }
        if let a = activations, a.batch == batch, a.seq == seq, a.recompute == recompute { return a }
        activations = nil
        let a = LlamaActivations(config: config, batch: batch, seq: seq, recompute: recompute)
        activations = a
        return a
    }

    func blockForward(_ l: Int, _ a: LlamaActivations) {
        let c = config.hiddenSize, n = a.batch * a.seq, eps = config.rmsNormEpsilon
        let qd = config.qDim, kd = config.kvDim, im = config.intermediateSize
        let w = weights(parameters, layer: l), s = a.block(l)
        let x = a.residuals[l], out = a.residuals[l + 1]
        _ = im
        timed("fwd rmsnorm") { RMSNorm.forward(out: s.ln1, rstd: s.rstd1, inp: x, weight: w.ln1, rows: n, channels: c, eps: eps) }
        timed("fwd matmul qkv") {
            w.q.forward(out: s.q, inp: s.ln1, hidden: s.hq, rows: n)
            w.k.forward(out: s.k, inp: s.ln1, hidden: s.hk, rows: n)
            w.v.forward(out: s.v, inp: s.ln1, hidden: s.hv, rows: n)
        }
        timed("fwd rope") {
            rope.apply(s.q, rows: n, seq: a.seq, ld: qd, heads: config.heads)
            rope.apply(s.k, rows: n, seq: a.seq, ld: kd, heads: config.kvHeads)
        }
        timed("fwd attention") { CausalSelfAttention.forward(out: s.atty, att: s.att, q: s.q, k: s.k, v: s.v, layout: attentionLayout(a)) }
        timed("fwd matmul o") { w.o.forward(out: s.res2, inp: s.atty, hidden: s.ho, rows: n) }
        timed("fwd residual") { Residual.forward(out: s.res2, a: s.res2, b: x, count: n * c) }
        timed("fwd rmsnorm") { RMSNorm.forward(out: s.ln2, rstd: s.rstd2, inp: s.res2, weight: w.ln2, rows: n, channels: c, eps: eps) }
        timed("fwd matmul gate/up") {
            w.gate.forward(out: s.gate, inp: s.ln2, hidden: s.hgate, rows: n)
            w.up.forward(out: s.up, inp: s.ln2, hidden: s.hup, rows: n)
        }
        timed("fwd swiglu") { SwiGLU.forward(out: s.act, gate: s.gate, up: s.up, count: n * im) }
        timed("fwd matmul down") { w.down.forward(out: out, inp: s.act, hidden: s.hdown, rows: n) }
        timed("fwd residual") { Residual.forward(out: out, a: out, b: s.res2, count: n * c) }
    }

    @discardableResult
    func forwardHidden(tokens: UnsafePointer<Int32>, batch: Int, seq: Int) throws -> LlamaActivations {
        let a = try prepare(batch: batch, seq: seq)
        let n = batch * seq, c = config.hiddenSize
        for i in 0..<n where tokens[i] < 0 || Int(tokens[i]) >= config.vocabSize {
            throw ModelError.invalidInput("token id \(tokens[i]) at position \(i) is outside the vocabulary of \(config.vocabSize)")
        }
        a.tokens.update(from: tokens, count: n)
        timed("embedding") {
            Embedding.forward(out: a.residuals[0], tokens: a.tokens, wte: parameters.pointer("model.embed_tokens.weight"), wpe: nil,
                              batch: batch, seq: seq, channels: c)
        }
        for l in 0..<config.layers { blockForward(l, a) }
        RMSNorm.forward(out: a.lnf, rstd: a.rstdf, inp: a.residuals[config.layers], weight: parameters.pointer("model.norm.weight"),
                        rows: n, channels: c, eps: config.rmsNormEpsilon)
        return a
    }

    /// Logits [B,T,V] for every position.
    public func logits(tokens: [Int32], batch: Int, seq: Int) throws -> Tensor {
        guard tokens.count == batch * seq else { throw ModelError.invalidInput("\(tokens.count) tokens for batch \(batch) x seq \(seq)") }
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        let out = Tensor(zeros: [batch, seq, config.vocabSize])
        Linear.forward(out: out.pointer, inp: a.lnf, weight: parameters.pointer(headName), bias: nil,
                       rows: batch * seq, inFeatures: config.hiddenSize, outFeatures: config.vocabSize)
        return out
    }

    func checkShapes(tokens: [Int32], targets: [Int32], batch: Int, seq: Int) throws {
        guard tokens.count == batch * seq, targets.count == batch * seq else {
            throw ModelError.invalidInput("expected \(batch * seq) tokens and targets for batch \(batch) x seq \(seq), got \(tokens.count) and \(targets.count)")
        }
        try targets.withUnsafeBufferPointer { try ChunkedCrossEntropy.validate(targets: $0.baseAddress!, count: targets.count, vocab: config.vocabSize) }
    }

    /// Mean cross-entropy over targets >= 0, without gradients.
    public func loss(tokens: [Int32], targets: [Int32], batch: Int, seq: Int) throws -> ChunkedCrossEntropy.Result {
        try checkShapes(tokens: tokens, targets: targets, batch: batch, seq: seq)
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        return targets.withUnsafeBufferPointer { t in
            lossHead.run(x: a.lnf, weight: parameters.pointer(headName), targets: t.baseAddress!, rows: batch * seq,
                         channels: config.hiddenSize, dx: nil, dweight: nil)
        }
    }

    /// Forward and backward for one micro-batch; accumulates gradients of (sum of losses) x gradScale.
    public func forwardBackward(tokens: [Int32], targets: [Int32], batch: Int, seq: Int, gradScale: Float) throws -> ChunkedCrossEntropy.Result {
        try checkShapes(tokens: tokens, targets: targets, batch: batch, seq: seq)
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        let n = batch * seq, c = config.hiddenSize
        a.targets.update(from: targets, count: n)
        a.dln.update(repeating: 0, count: n * c)
        var result = ChunkedCrossEntropy.Result(lossSum: 0, count: 0)
        timed("output head + loss") {
            result = lossHead.run(x: a.lnf, weight: parameters.pointer(headName), targets: a.targets, rows: n, channels: c,
                                  dx: a.dln, dweight: gradients.pointer(headName), gradScale: gradScale)
        }
        a.dres.update(repeating: 0, count: n * c)
        RMSNorm.backward(dinp: a.dres, dweight: gradients.pointer("model.norm.weight"), dout: a.dln, inp: a.residuals[config.layers],
                         weight: parameters.pointer("model.norm.weight"), rstd: a.rstdf, rows: n, channels: c)
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            if recompute { timed("recompute") { blockForward(l, a) } }
            blockBackward(l, a)
        }
        timed("embedding") {
            Embedding.backward(dwte: gradients.pointer("model.embed_tokens.weight"), dwpe: nil, dout: a.dres, tokens: a.tokens,
                               batch: batch, seq: seq, channels: c)
        }
        return result
    }

    func blockBackward(_ l: Int, _ a: LlamaActivations) {
        let c = config.hiddenSize, n = a.batch * a.seq
        let qd = config.qDim, kd = config.kvDim, im = config.intermediateSize
        let w = weights(parameters, layer: l), g = weights(gradients, layer: l), s = a.block(l)
        let x = a.residuals[l]
        // MLP: out = res2 + down(swiglu(gate(ln2), up(ln2)))
        timed("bwd matmul down") {
            a.dact.update(repeating: 0, count: n * im)
            w.down.backward(grads: g.down, dinp: a.dact, dout: a.dres, inp: s.act, hidden: s.hdown, scratch: a.dhidden, rows: n)
        }
        timed("bwd swiglu") {
            a.dgate.update(repeating: 0, count: n * im)
            a.dup.update(repeating: 0, count: n * im)
            SwiGLU.backward(dgate: a.dgate, dup: a.dup, dout: a.dact, gate: s.gate, up: s.up, count: n * im)
        }
        timed("bwd matmul gate/up") {
            a.dln.update(repeating: 0, count: n * c)
            w.gate.backward(grads: g.gate, dinp: a.dln, dout: a.dgate, inp: s.ln2, hidden: s.hgate, scratch: a.dhidden, rows: n)
            w.up.backward(grads: g.up, dinp: a.dln, dout: a.dup, inp: s.ln2, hidden: s.hup, scratch: a.dhidden, rows: n)
        }
        timed("bwd rmsnorm") {
            RMSNorm.backward(dinp: a.dres, dweight: g.ln2, dout: a.dln, inp: s.res2, weight: w.ln2, rstd: s.rstd2, rows: n, channels: c)
        }
        // attention: res2 = x + o(attn(rope(q(ln1)), rope(k(ln1)), v(ln1)))
        timed("bwd matmul o") {
            a.datty.update(repeating: 0, count: n * qd)
            w.o.backward(grads: g.o, dinp: a.datty, dout: a.dres, inp: s.atty, hidden: s.ho, scratch: a.dhidden, rows: n)
        }
        timed("bwd attention") {
            a.dq.update(repeating: 0, count: n * qd)
            a.dk.update(repeating: 0, count: n * kd)
            a.dv.update(repeating: 0, count: n * kd)
            CausalSelfAttention.backward(dq: a.dq, dk: a.dk, dv: a.dv, dout: a.datty, q: s.q, k: s.k, v: s.v, att: s.att, layout: attentionLayout(a))
        }
        timed("bwd rope") {
            rope.backward(a.dq, rows: n, seq: a.seq, ld: qd, heads: config.heads)
            rope.backward(a.dk, rows: n, seq: a.seq, ld: kd, heads: config.kvHeads)
        }
        timed("bwd matmul qkv") {
            a.dln.update(repeating: 0, count: n * c)
            w.q.backward(grads: g.q, dinp: a.dln, dout: a.dq, inp: s.ln1, hidden: s.hq, scratch: a.dhidden, rows: n)
            w.k.backward(grads: g.k, dinp: a.dln, dout: a.dk, inp: s.ln1, hidden: s.hk, scratch: a.dhidden, rows: n)
            w.v.backward(grads: g.v, dinp: a.dln, dout: a.dv, inp: s.ln1, hidden: s.hv, scratch: a.dhidden, rows: n)
        }
        timed("bwd rmsnorm") {
            RMSNorm.backward(dinp: a.dres, dweight: g.ln1, dout: a.dln, inp: x, weight: w.ln1, rstd: s.rstd1, rows: n, channels: c)
        }
    }

    public func zeroGradients() { gradients.buffer.zero() }
}
