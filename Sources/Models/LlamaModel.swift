import Foundation
import NN
import Tensor

/// A LLaMA-architecture language model for training: token embedding, pre-norm blocks (RMSNorm,
/// grouped-query attention with rotary embeddings, RMSNorm, SwiGLU MLP), a final RMSNorm and an
/// output head (tied to the embedding or separate). Parameter names and layouts are Hugging Face's
/// (`model.layers.0.self_attn.q_proj.weight`, [out, in], rotate-half rotary layout).
///
/// Two ways to train it: every weight in float32 (pretraining, full finetuning; block linears may be
/// factorised), or a frozen base (`LlamaFrozenBase`: float32 or quantized, never expanded) with a LoRA
/// adapter whose factors are then the only parameters, gradients and optimizer state (QLoRA).
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    /// The trainable parameters: all weights, or only the adapter's factors over a frozen base.
    public let parameters: ParameterStore
    public let gradients: ParameterStore
    /// The frozen weights under adapter finetuning (nil when every weight trains).
    public let frozen: LlamaFrozenBase?
    /// The LoRA adapter trained over `frozen`.
    public let adapter: LoRAAdapter?
    /// Mixed into the adapter's dropout masks; the trainer sets it before each micro-batch so that
    /// masks differ between steps yet repeat exactly on resume and under recomputation.
    public var stochasticSeed: UInt64 = 0
    /// True inside `forwardBackward` (adapter dropout is active only then).
    var training = false
    public var recompute: Bool {
        didSet { if recompute != oldValue { activations = nil } }
    }
    public var profiler: PhaseTimer?
    /// Called from backward as each gradient group becomes final (data-parallel bucket overlap).
    public var gradientReadyHook: ((GradientGroup) -> Void)?
    public let rope: RotaryEmbedding

    var activations: LlamaActivations?
    var lossHead: ChunkedCrossEntropy
    /// Positions per chunk of the fused output head and loss (scratch = chunk x vocab floats).
    public var lossChunkRows: Int {
        get { lossHead.chunkRows }
        set { lossHead = ChunkedCrossEntropy(vocab: config.vocabSize, chunkRows: newValue) }
    }
    /// Bytes held by the activation arena for the current batch shape (0 before the first forward).
    public var activationBytes: Int { activations?.bytes ?? 0 }

    public init(config: LlamaConfig, recompute: Bool = false) throws {
        try config.validate()
        self.config = config
        self.recompute = recompute
        parameters = ParameterStore(layout: LlamaModel.layout(config))
        gradients = parameters.makeSibling()
        lossHead = ChunkedCrossEntropy(vocab: config.vocabSize)
        rope = RotaryEmbedding(headDim: config.headDim, maxPositions: config.contextLength, base: config.ropeTheta)
        frozen = nil
        adapter = nil
    }

    /// Adapter finetuning: `base` stays frozen, `adapter`'s factors are the trainable parameters.
    public init(base: LlamaFrozenBase, adapter: LoRAAdapter, recompute: Bool = false) throws {
        guard case .llama(let adapterConfig) = adapter.base else {
            throw ModelError.invalidConfig("the adapter is for a \(adapter.base.architecture) model, the base is LLaMA")
        }
        var plain = adapterConfig
        plain.lowRankRanks = [:]
        try adapter.validate(against: .llama(base.config))
        guard plain.hiddenSize == base.config.hiddenSize, plain.layers == base.config.layers else {
            throw ModelError.invalidConfig("the adapter was made for another model shape than the base's")
        }
        config = base.config
        self.recompute = recompute
        parameters = adapter.parameters
        gradients = parameters.makeSibling()
        // a frozen head has no weight gradient to amortise: small chunks keep the logits scratch small
        lossHead = ChunkedCrossEntropy(vocab: config.vocabSize, chunkRows: 128)
        rope = RotaryEmbedding(headDim: config.headDim, maxPositions: config.contextLength, base: config.ropeTheta)
        frozen = base
        self.adapter = adapter
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
        /// nil when the norms are frozen.
        let ln1Grad, ln2Grad: UnsafeMutablePointer<Float>?
        let q, k, v, o, gate, up, down: BlockLinearLayer
    }

    /// A norm (or other non-linear-module) weight: from the frozen base or the parameters.
    func weight(_ name: String) -> UnsafeMutablePointer<Float> { frozen?.norms.pointer(name) ?? parameters.pointer(name) }
    /// Its gradient, nil when frozen.
    func weightGrad(_ name: String) -> UnsafeMutablePointer<Float>? { frozen == nil ? gradients.pointer(name) : nil }

    /// Module kinds in block order (the dropout seed and activation slots index them).
    static let moduleNames = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                              "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]

    func blockLinear(layer l: Int, kind: Int, inFeatures: Int, outFeatures: Int) -> BlockLinearLayer {
        let module = "model.layers.\(l)." + LlamaModel.moduleNames[kind]
        guard let frozen else {
            return BlockLinearLayer(trainable: linearWeights(parameters, module, inFeatures, outFeatures),
                                    grads: linearWeights(gradients, module, inFeatures, outFeatures))
        }
        return .adapted(frozen.linears[module]!, module: module, adapter: adapter, parameters: parameters, gradients: gradients,
                        training: training, stochasticSeed: stochasticSeed, dropoutSlot: l * 8 + kind + 1)
    }

    func linearWeights(_ store: ParameterStore, _ module: String, _ inF: Int, _ outF: Int) -> LinearLayerWeights {
        if let r = config.lowRankRanks[module] {
            return LinearLayerWeights(a: store.pointer(module + ".A.weight"), b: store.pointer(module + ".B.weight"), bias: nil,
                                      inFeatures: inF, outFeatures: outF, rank: r)
        }
        return LinearLayerWeights(weight: store.pointer(module + ".weight"), bias: nil, inFeatures: inF, outFeatures: outF)
    }

    func weights(layer l: Int) -> Weights {
        let p = "model.layers.\(l).", c = config.hiddenSize, im = config.intermediateSize, qd = config.qDim, kd = config.kvDim
        return Weights(ln1: weight(p + "input_layernorm.weight"), ln2: weight(p + "post_attention_layernorm.weight"),
                       ln1Grad: weightGrad(p + "input_layernorm.weight"), ln2Grad: weightGrad(p + "post_attention_layernorm.weight"),
                       q: blockLinear(layer: l, kind: 0, inFeatures: c, outFeatures: qd), k: blockLinear(layer: l, kind: 1, inFeatures: c, outFeatures: kd),
                       v: blockLinear(layer: l, kind: 2, inFeatures: c, outFeatures: kd), o: blockLinear(layer: l, kind: 3, inFeatures: qd, outFeatures: c),
                       gate: blockLinear(layer: l, kind: 4, inFeatures: c, outFeatures: im), up: blockLinear(layer: l, kind: 5, inFeatures: c, outFeatures: im),
                       down: blockLinear(layer: l, kind: 6, inFeatures: im, outFeatures: c))
    }

    /// Per module kind, the widest A x kept for backward: factorised ranks, or the adapter's rank.
    var hiddenRanks: [Int] {
        LlamaModel.moduleNames.map { kind in
            if let adapter { return adapter.modules.contains { $0.path.hasSuffix(kind) } ? adapter.config.rank : 0 }
            return config.lowRankRanks.filter { $0.key.hasSuffix(kind) }.values.max() ?? 0
        }
    }

    /// Floats of the dropout scratch [N, widest input] (only when the adapter uses dropout).
    var droppedWidth: Int { (adapter?.config.dropout ?? 0) > 0 ? max(config.hiddenSize, config.intermediateSize, config.qDim) : 0 }

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
        let a = LlamaActivations(config: config, batch: batch, seq: seq, recompute: recompute, hiddenRanks: hiddenRanks, droppedWidth: droppedWidth)
        activations = a
        return a
    }

    /// Block `l`'s forward pass. `recomputing` (inside backward, with recomputation) stops at what the
    /// block's backward reads: the down projection's output and the residual after it (the block's
    /// output, already kept as the next block's input) are not computed again.
    func blockForward(_ l: Int, _ a: LlamaActivations, recomputing: Bool = false) {
        let c = config.hiddenSize, n = a.batch * a.seq, eps = config.rmsNormEpsilon
        let qd = config.qDim, kd = config.kvDim, im = config.intermediateSize
        let w = weights(layer: l), s = a.block(l), dr = a.dropped
        let x = a.residuals[l], out = a.residuals[l + 1]
        timed("fwd rmsnorm") { RMSNorm.forward(out: s.ln1, rstd: s.rstd1, inp: x, weight: w.ln1, rows: n, channels: c, eps: eps) }
        timed("fwd matmul qkv") {
            w.q.forward(out: s.q, inp: s.ln1, hidden: s.hq, dropped: dr, rows: n)
            w.k.forward(out: s.k, inp: s.ln1, hidden: s.hk, dropped: dr, rows: n)
            w.v.forward(out: s.v, inp: s.ln1, hidden: s.hv, dropped: dr, rows: n)
        }
        timed("fwd rope") {
            rope.apply(s.q, rows: n, seq: a.seq, ld: qd, heads: config.heads)
            rope.apply(s.k, rows: n, seq: a.seq, ld: kd, heads: config.kvHeads)
        }
        timed("fwd attention") { CausalSelfAttention.forward(out: s.atty, att: s.att, q: s.q, k: s.k, v: s.v, layout: attentionLayout(a)) }
        timed("fwd matmul o") { w.o.forward(out: s.res2, inp: s.atty, hidden: s.ho, dropped: dr, rows: n) }
        timed("fwd residual") { Residual.forward(out: s.res2, a: s.res2, b: x, count: n * c) }
        timed("fwd rmsnorm") { RMSNorm.forward(out: s.ln2, rstd: s.rstd2, inp: s.res2, weight: w.ln2, rows: n, channels: c, eps: eps) }
        timed("fwd matmul gate/up") {
            w.gate.forward(out: s.gate, inp: s.ln2, hidden: s.hgate, dropped: dr, rows: n)
            w.up.forward(out: s.up, inp: s.ln2, hidden: s.hup, dropped: dr, rows: n)
        }
        timed("fwd swiglu") { SwiGLU.forward(out: s.act, gate: s.gate, up: s.up, count: n * im) }
        if recomputing {
            timed("fwd matmul down") { w.down.forwardForBackward(inp: s.act, hidden: s.hdown, dropped: dr, rows: n) }
            return
        }
        timed("fwd matmul down") { w.down.forward(out: out, inp: s.act, hidden: s.hdown, dropped: dr, rows: n) }
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
            if let table = frozen?.embedding {
                for i in 0..<n { table.row(Int(a.tokens[i]), into: a.residuals[0] + i * c) }
            } else {
                Embedding.forward(out: a.residuals[0], tokens: a.tokens, wte: parameters.pointer("model.embed_tokens.weight"), wpe: nil,
                                  batch: batch, seq: seq, channels: c)
            }
        }
        for l in 0..<config.layers { blockForward(l, a) }
        RMSNorm.forward(out: a.lnf, rstd: a.rstdf, inp: a.residuals[config.layers], weight: weight("model.norm.weight"),
                        rows: n, channels: c, eps: config.rmsNormEpsilon)
        return a
    }

    /// Loss (and with `dx`, gradients) of the output head over the positions with a target; rows whose
    /// target is ignored are skipped altogether (instruction tuning scores only a few answer tokens,
    /// and the vocabulary projection is the largest product of the model).
    func headLoss(x: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows n: Int, dx: UnsafeMutablePointer<Float>?,
                  gradScale: Float) -> ChunkedCrossEntropy.Result {
        ScoredRowsLoss.run(x: x, targets: targets, rows: n, channels: config.hiddenSize, dx: dx) { x, t, rows, dx in
            headLossDense(x: x, targets: t, rows: rows, dx: dx, gradScale: gradScale)
        }
    }

    func headLossDense(x: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows n: Int, dx: UnsafeMutablePointer<Float>?,
                       gradScale: Float) -> ChunkedCrossEntropy.Result {
        if let head = frozen?.head {
            return lossHead.run(x: x, head: head, targets: targets, rows: n, channels: config.hiddenSize, dx: dx, gradScale: gradScale)
        }
        return lossHead.run(x: x, weight: parameters.pointer(headName), targets: targets, rows: n, channels: config.hiddenSize, dx: dx,
                            dweight: dx == nil ? nil : gradients.pointer(headName), gradScale: gradScale)
    }

    /// Logits [B,T,V] for every position.
    public func logits(tokens: [Int32], batch: Int, seq: Int) throws -> Tensor {
        guard tokens.count == batch * seq else { throw ModelError.invalidInput("\(tokens.count) tokens for batch \(batch) x seq \(seq)") }
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        let out = Tensor(zeros: [batch, seq, config.vocabSize])
        if let head = frozen?.head {
            head.forward(a.lnf, rows: batch * seq, into: out.pointer)
        } else {
            Linear.forward(out: out.pointer, inp: a.lnf, weight: parameters.pointer(headName), bias: nil,
                           rows: batch * seq, inFeatures: config.hiddenSize, outFeatures: config.vocabSize)
        }
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
        return targets.withUnsafeBufferPointer { t in headLoss(x: a.lnf, targets: t.baseAddress!, rows: batch * seq, dx: nil, gradScale: 1) }
    }

    /// Forward and backward for one micro-batch; accumulates gradients of (sum of losses) x gradScale.
    public func forwardBackward(tokens: [Int32], targets: [Int32], batch: Int, seq: Int, gradScale: Float) throws -> ChunkedCrossEntropy.Result {
        try checkShapes(tokens: tokens, targets: targets, batch: batch, seq: seq)
        training = true
        defer { training = false }
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        let n = batch * seq, c = config.hiddenSize
        a.targets.update(from: targets, count: n)
        a.dln.update(repeating: 0, count: n * c)
        var result = ChunkedCrossEntropy.Result(lossSum: 0, count: 0)
        timed("output head + loss") {
            result = headLoss(x: a.lnf, targets: a.targets, rows: n, dx: a.dln, gradScale: gradScale)
        }
        a.dres.update(repeating: 0, count: n * c)
        RMSNorm.backward(dinp: a.dres, dweight: weightGrad("model.norm.weight"), dout: a.dln, inp: a.residuals[config.layers],
                         weight: weight("model.norm.weight"), rstd: a.rstdf, rows: n, channels: c)
        gradientReadyHook?(.head)
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            // the last block's activations are still in the arena from the forward pass
            if recompute && l < config.layers - 1 { timed("recompute") { blockForward(l, a, recomputing: true) } }
            blockBackward(l, a)
            gradientReadyHook?(.block(l))
        }
        if frozen == nil { timed("embedding") {
            Embedding.backward(dwte: gradients.pointer("model.embed_tokens.weight"), dwpe: nil, dout: a.dres, tokens: a.tokens,
                               batch: batch, seq: seq, channels: c)
        } }
        gradientReadyHook?(.embedding)
        return result
    }

    func blockBackward(_ l: Int, _ a: LlamaActivations) {
        let c = config.hiddenSize, n = a.batch * a.seq
        let qd = config.qDim, kd = config.kvDim, im = config.intermediateSize
        let w = weights(layer: l), s = a.block(l), dr = a.dropped
        let x = a.residuals[l]
        // MLP: out = res2 + down(swiglu(gate(ln2), up(ln2)))
        timed("bwd matmul down") {
            a.dact.update(repeating: 0, count: n * im)
            w.down.backward(dinp: a.dact, dout: a.dres, inp: s.act, hidden: s.hdown, scratch: a.dhidden, dropped: dr, rows: n)
        }
        timed("bwd swiglu") {
            a.dgate.update(repeating: 0, count: n * im)
            a.dup.update(repeating: 0, count: n * im)
            SwiGLU.backward(dgate: a.dgate, dup: a.dup, dout: a.dact, gate: s.gate, up: s.up, count: n * im)
        }
        timed("bwd matmul gate/up") {
            a.dln.update(repeating: 0, count: n * c)
            w.gate.backward(dinp: a.dln, dout: a.dgate, inp: s.ln2, hidden: s.hgate, scratch: a.dhidden, dropped: dr, rows: n)
            w.up.backward(dinp: a.dln, dout: a.dup, inp: s.ln2, hidden: s.hup, scratch: a.dhidden, dropped: dr, rows: n)
        }
        timed("bwd rmsnorm") {
            RMSNorm.backward(dinp: a.dres, dweight: w.ln2Grad, dout: a.dln, inp: s.res2, weight: w.ln2, rstd: s.rstd2, rows: n, channels: c)
        }
        // attention: res2 = x + o(attn(rope(q(ln1)), rope(k(ln1)), v(ln1)))
        timed("bwd matmul o") {
            a.datty.update(repeating: 0, count: n * qd)
            w.o.backward(dinp: a.datty, dout: a.dres, inp: s.atty, hidden: s.ho, scratch: a.dhidden, dropped: dr, rows: n)
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
            w.q.backward(dinp: a.dln, dout: a.dq, inp: s.ln1, hidden: s.hq, scratch: a.dhidden, dropped: dr, rows: n)
            w.k.backward(dinp: a.dln, dout: a.dk, inp: s.ln1, hidden: s.hk, scratch: a.dhidden, dropped: dr, rows: n)
            w.v.backward(dinp: a.dln, dout: a.dv, inp: s.ln1, hidden: s.hv, scratch: a.dhidden, dropped: dr, rows: n)
        }
        timed("bwd rmsnorm") {
            RMSNorm.backward(dinp: a.dres, dweight: w.ln1Grad, dout: a.dln, inp: x, weight: w.ln1, rstd: s.rstd1, rows: n, channels: c)
        }
    }

    public func zeroGradients() { gradients.buffer.zero() }
}
