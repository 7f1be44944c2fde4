import Foundation
import NN
import Tensor

/// A GPT-2 language model: learned token and position embeddings, pre-norm transformer blocks
/// (LayerNorm, causal self-attention, LayerNorm, GELU MLP), a final LayerNorm and an output head tied
/// to the token embedding. Parameter names follow nanoGPT (`transformer.h.0.attn.c_attn.weight`, ...)
/// with PyTorch nn.Linear layouts ([out, in]).
///
/// Two ways to train it: every weight in float32 (pretraining, full finetuning; block linears may be
/// factorised), or a frozen base (`GPT2FrozenBase`: block weights in float32 or quantized, never
/// expanded; biases, LayerNorms and embeddings frozen too) with a LoRA adapter on chosen block
/// linears whose factors are then the only parameters, gradients and optimizer state (QLoRA).
public final class GPT2Model: @unchecked Sendable {
    public let config: GPT2Config
    /// The trainable parameters: all weights, or only the adapter's factors over a frozen base.
    public let parameters: ParameterStore
    public let gradients: ParameterStore
    /// The frozen weights under adapter finetuning (nil when every weight trains).
    public let frozen: GPT2FrozenBase?
    /// The LoRA adapter trained over `frozen`.
    public let adapter: LoRAAdapter?
    /// Mixed into the adapter's dropout masks; the trainer sets it before each micro-batch so that
    /// masks differ between steps yet repeat exactly on resume and under recomputation.
    public var stochasticSeed: UInt64 = 0
    /// True inside a training pass (adapter dropout is active only then).
    var training = false
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

    public init(config: GPT2Config, recompute: Bool = false) throws {
        try config.validate()
        self.config = config
        self.recompute = recompute
        parameters = ParameterStore(layout: GPT2Model.layout(config))
        gradients = parameters.makeSibling()
        lossHead = ChunkedCrossEntropy(vocab: config.vocabSize)
        frozen = nil
        adapter = nil
    }

    /// Adapter finetuning: `base` stays frozen, `adapter`'s factors are the trainable parameters.
    public init(base: GPT2FrozenBase, adapter: LoRAAdapter, recompute: Bool = false) throws {
        guard case .gpt2 = adapter.base else {
            throw ModelError.invalidConfig("the adapter is for a \(adapter.base.architecture) model, the base is GPT-2")
        }
        try adapter.validate(against: .gpt2(base.config))
        config = base.config
        self.recompute = recompute
        parameters = adapter.parameters
        gradients = parameters.makeSibling()
        // a frozen head has no weight gradient to amortise: small chunks keep the logits scratch small
        lossHead = ChunkedCrossEntropy(vocab: config.vocabSize, chunkRows: 128)
        frozen = base
        self.adapter = adapter
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

    // MARK: weights

    /// Module kinds in block order (the dropout seed and the activation slots index them).
    static let moduleNames = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]

    /// A float32 weight that is not a block linear's matrix (LayerNorm, bias, position embedding):
    /// from the frozen base or the parameters.
    func weight(_ name: String) -> UnsafeMutablePointer<Float> { frozen?.floats.pointer(name) ?? parameters.pointer(name) }
    /// Its gradient slot, nil when frozen.
    func weightGrad(_ name: String) -> UnsafeMutablePointer<Float>? { frozen == nil ? gradients.pointer(name) : nil }

    /// Per module kind, the widest A x kept for backward: factorised ranks, or the adapter's rank.
    var hiddenRanks: [Int] {
        GPT2Model.moduleNames.map { kind in
            if let adapter { return adapter.modules.contains { $0.path.hasSuffix("." + kind) } ? adapter.config.rank : 0 }
            return config.lowRankRanks.filter { $0.key.hasSuffix("." + kind) }.values.max() ?? 0
        }
    }

    /// Floats per row of the dropout scratch (the widest adapter input; 0 without adapter dropout).
    var droppedWidth: Int { (adapter?.config.dropout ?? 0) > 0 ? 4 * config.embeddingSize : 0 }

    func prepare(batch: Int, seq: Int) throws -> GPT2Activations {
        guard batch > 0, seq > 0 else { throw ModelError.invalidInput("batch (\(batch)) and sequence length (\(seq)) must be positive") }
        guard seq <= config.contextLength else {
            throw ModelError.invalidInput("sequence length \(seq) exceeds the model's context length \(config.contextLength)")
        }
        if let a = activations, a.batch == batch, a.seq == seq, a.recompute == recompute { return a }
        activations = nil
        let a = GPT2Activations(config: config, batch: batch, seq: seq, recompute: recompute, hiddenRanks: hiddenRanks, droppedWidth: droppedWidth)
        activations = a
        return a
    }

    /// The weights of one block of a model whose every weight is float32 (inference runners use it).
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

    /// Block `l`'s float32 weights in `store` (the parameters or, for gradients, their sibling). Not
    /// for a model over a frozen base, whose block weights are in `frozen`.
    func weights(_ store: ParameterStore, layer l: Int) -> Weights {
        precondition(frozen == nil, "a GPT-2 model over a frozen base keeps its block weights in the base")
        let p = "transformer.h.\(l).", c = config.embeddingSize
        return Weights(ln1w: store.pointer(p + "ln_1.weight"), ln1b: store.pointer(p + "ln_1.bias"),
                       ln2w: store.pointer(p + "ln_2.weight"), ln2b: store.pointer(p + "ln_2.bias"),
                       attn: linearWeights(store, p + "attn.c_attn", c, 3 * c), proj: linearWeights(store, p + "attn.c_proj", c, c),
                       fc: linearWeights(store, p + "mlp.c_fc", c, 4 * c), fcProj: linearWeights(store, p + "mlp.c_proj", 4 * c, c))
    }

    /// Linear module `kind` of block `l` for a training pass: trainable weights with their gradients,
    /// or the frozen base's map with the adapter's factors when the adapter covers the module.
    func blockLinear(layer l: Int, kind: Int, inFeatures: Int, outFeatures: Int) -> BlockLinearLayer {
        let module = "transformer.h.\(l)." + GPT2Model.moduleNames[kind]
        guard let frozen else {
            return BlockLinearLayer(trainable: linearWeights(parameters, module, inFeatures, outFeatures),
                                    grads: linearWeights(gradients, module, inFeatures, outFeatures))
        }
        return .adapted(frozen.linears[module]!, module: module, adapter: adapter, parameters: parameters, gradients: gradients,
                        training: training, stochasticSeed: stochasticSeed, dropoutSlot: l * 4 + kind + 1)
    }

    func blockLayers(_ l: Int) -> GPT2BlockLayers {
        let p = "transformer.h.\(l).", c = config.embeddingSize
        return GPT2BlockLayers(ln1Weight: weight(p + "ln_1.weight"), ln1Bias: weight(p + "ln_1.bias"),
                               ln2Weight: weight(p + "ln_2.weight"), ln2Bias: weight(p + "ln_2.bias"),
                               ln1WeightGrad: weightGrad(p + "ln_1.weight"), ln1BiasGrad: weightGrad(p + "ln_1.bias"),
                               ln2WeightGrad: weightGrad(p + "ln_2.weight"), ln2BiasGrad: weightGrad(p + "ln_2.bias"),
                               attn: blockLinear(layer: l, kind: 0, inFeatures: c, outFeatures: 3 * c),
                               proj: blockLinear(layer: l, kind: 1, inFeatures: c, outFeatures: c),
                               fc: blockLinear(layer: l, kind: 2, inFeatures: c, outFeatures: 4 * c),
                               fcProj: blockLinear(layer: l, kind: 3, inFeatures: 4 * c, outFeatures: c))
    }

    // MARK: forward

    /// One block: out = x + proj(attn(ln1(x))); out += mlp(ln2(out)).
    /// Block `l`'s forward pass. `recomputing` (inside backward, with recomputation) stops at what the
    /// block's backward reads: the MLP's output projection and the residual after it (the block's
    /// output, already kept as the next block's input) are not computed again.
    func blockForward(_ l: Int, _ a: GPT2Activations, recomputing: Bool = false) {
        let c = config.embeddingSize, n = a.batch * a.seq, eps = config.layerNormEpsilon
        let w = blockLayers(l), s = a.block(l), dr = a.dropped
        let x = a.residuals[l], out = a.residuals[l + 1]
        timed("fwd layernorm") { LayerNorm.forward(out: s.ln1, mean: s.ln1Mean, rstd: s.ln1Rstd, inp: x, weight: w.ln1Weight, bias: w.ln1Bias, rows: n, channels: c, eps: eps) }
        timed("fwd matmul qkv") { w.attn.forward(out: s.qkv, inp: s.ln1, hidden: s.hAttn, dropped: dr, rows: n) }
        timed("fwd attention") { CausalSelfAttention.forward(out: s.atty, att: s.att, qkv: s.qkv, batch: a.batch, seq: a.seq, channels: c, heads: config.heads) }
        timed("fwd matmul attn proj") { w.proj.forward(out: s.res2, inp: s.atty, hidden: s.hProj, dropped: dr, rows: n) }
        timed("fwd residual") { Residual.forward(out: s.res2, a: s.res2, b: x, count: n * c) }
        timed("fwd layernorm") { LayerNorm.forward(out: s.ln2, mean: s.ln2Mean, rstd: s.ln2Rstd, inp: s.res2, weight: w.ln2Weight, bias: w.ln2Bias, rows: n, channels: c, eps: eps) }
        timed("fwd matmul fc") { w.fc.forward(out: s.fch, inp: s.ln2, hidden: s.hFC, dropped: dr, rows: n) }
        timed("fwd gelu") { GELU.forward(out: s.fchGelu, inp: s.fch, count: 4 * n * c) }
        if recomputing {
            timed("fwd matmul fc proj") { w.fcProj.forwardForBackward(inp: s.fchGelu, hidden: s.hFCProj, dropped: dr, rows: n) }
            return
        }
        timed("fwd matmul fc proj") { w.fcProj.forward(out: out, inp: s.fchGelu, hidden: s.hFCProj, dropped: dr, rows: n) }
        timed("fwd residual") { Residual.forward(out: out, a: out, b: s.res2, count: n * c) }
    }

    /// residuals[0] = token embedding + position embedding of `a.tokens`.
    func embed(_ a: GPT2Activations) {
        let c = config.embeddingSize
        timed("embedding") {
            if let frozen {
                let wpe = frozen.floats.pointer("transformer.wpe.weight"), table = frozen.embedding
                for i in 0..<(a.batch * a.seq) {
                    let out = a.residuals[0] + i * c
                    table.row(Int(a.tokens[i]), into: out)
                    Kernels.axpy(1, wpe + (i % a.seq) * c, out, count: c)
                }
            } else {
                Embedding.forward(out: a.residuals[0], tokens: a.tokens, wte: parameters.pointer("transformer.wte.weight"),
                                  wpe: parameters.pointer("transformer.wpe.weight"), batch: a.batch, seq: a.seq, channels: c)
            }
        }
    }

    /// a.lnf = ln_f(last residual).
    func finalNorm(_ a: GPT2Activations) {
        LayerNorm.forward(out: a.lnf, mean: a.lnfMean, rstd: a.lnfRstd, inp: a.residuals[config.layers],
                          weight: weight("transformer.ln_f.weight"), bias: weight("transformer.ln_f.bias"),
                          rows: a.batch * a.seq, channels: config.embeddingSize, eps: config.layerNormEpsilon)
    }

    /// Runs embeddings, all blocks and the final LayerNorm for `tokens` [B,T]; returns the arena.
    @discardableResult
    func forwardHidden(tokens: UnsafePointer<Int32>, batch: Int, seq: Int) throws -> GPT2Activations {
        let a = try prepare(batch: batch, seq: seq)
        let n = batch * seq
        for i in 0..<n {
            guard tokens[i] >= 0, Int(tokens[i]) < config.vocabSize else {
                throw ModelError.invalidInput("token id \(tokens[i]) at position \(i) is outside the vocabulary of \(config.vocabSize)")
            }
        }
        a.tokens.update(from: tokens, count: n)
        embed(a)
        for l in 0..<config.layers { blockForward(l, a) }
        finalNorm(a)
        return a
    }

    /// The output head's loss over a.lnf and a.targets; with `withGradients`, accumulates d(lnf) into
    /// a.dln (zeroed first) and, when the head trains, d(wte).
    func headLoss(_ a: GPT2Activations, withGradients: Bool, gradScale: Float) -> ChunkedCrossEntropy.Result {
        let n = a.batch * a.seq, c = config.embeddingSize
        if withGradients { a.dln.update(repeating: 0, count: n * c) }
        let dx = withGradients ? a.dln : nil
        return ScoredRowsLoss.run(x: a.lnf, targets: a.targets, rows: n, channels: c, dx: dx) { x, t, rows, dx in
            if let frozen {
                return lossHead.run(x: x, head: frozen.head, targets: t, rows: rows, channels: c, dx: dx, gradScale: gradScale)
            }
            return lossHead.run(x: x, weight: parameters.pointer("transformer.wte.weight"), targets: t, rows: rows, channels: c,
                                dx: dx, dweight: withGradients ? gradients.pointer("transformer.wte.weight") : nil, gradScale: gradScale)
        }
    }

    /// a.dres = d(last residual) from d(lnf) in a.dln, accumulating ln_f's gradients when it trains.
    func finalNormBackward(_ a: GPT2Activations) {
        let n = a.batch * a.seq, c = config.embeddingSize
        a.dres.update(repeating: 0, count: n * c)
        LayerNorm.backward(dinp: a.dres, dweight: weightGrad("transformer.ln_f.weight") ?? a.frozenNormGradients,
                           dbias: weightGrad("transformer.ln_f.bias") ?? a.frozenNormGradients + c, dout: a.dln,
                           inp: a.residuals[config.layers], weight: weight("transformer.ln_f.weight"),
                           mean: a.lnfMean, rstd: a.lnfRstd, rows: n, channels: c)
    }

    /// Accumulates the embeddings' gradients from d(residuals[0]) in a.dres (nothing when frozen).
    func embeddingBackward(_ a: GPT2Activations) {
        guard frozen == nil else { return }
        timed("embedding") { Embedding.backward(dwte: gradients.pointer("transformer.wte.weight"), dwpe: gradients.pointer("transformer.wpe.weight"),
                                                dout: a.dres, tokens: a.tokens, batch: a.batch, seq: a.seq, channels: config.embeddingSize) }
    }

    /// Mean cross-entropy of predicting `targets` (ignored where negative) from `tokens`, both [B,T],
    /// without touching gradients.
    public func loss(tokens: [Int32], targets: [Int32], batch: Int, seq: Int) throws -> ChunkedCrossEntropy.Result {
        try checkShapes(tokens: tokens, targets: targets, batch: batch, seq: seq)
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        a.targets.update(from: targets, count: batch * seq)
        return headLoss(a, withGradients: false, gradScale: 1)
    }

    /// out[rows, V] = logits of the final hidden states `x` [rows, C] (tied embedding head).
    func projectToVocabulary(_ x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        if let frozen {
            frozen.head.forward(x, rows: rows, into: out)
        } else {
            Linear.forward(out: out, inp: x, weight: parameters.pointer("transformer.wte.weight"), bias: nil,
                           rows: rows, inFeatures: config.embeddingSize, outFeatures: config.vocabSize)
        }
    }

    /// Logits [B,T,V] for every position (for tests and small inputs; sampling uses `lastLogits`).
    public func logits(tokens: [Int32], batch: Int, seq: Int) throws -> Tensor {
        guard tokens.count == batch * seq else { throw ModelError.invalidInput("\(tokens.count) tokens for batch \(batch) x seq \(seq)") }
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        let out = Tensor(zeros: [batch, seq, config.vocabSize])
        projectToVocabulary(a.lnf, rows: batch * seq, into: out.pointer)
        return out
    }

    /// Logits [V] of the last position of a single sequence.
    public func lastLogits(tokens: [Int32]) throws -> [Float] {
        let t = tokens.count
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: 1, seq: t) }
        var out = [Float](repeating: 0, count: config.vocabSize)
        out.withUnsafeMutableBufferPointer { o in projectToVocabulary(a.lnf + (t - 1) * config.embeddingSize, rows: 1, into: o.baseAddress!) }
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
        training = true
        defer { training = false }
        let a = try tokens.withUnsafeBufferPointer { try forwardHidden(tokens: $0.baseAddress!, batch: batch, seq: seq) }
        a.targets.update(from: targets, count: batch * seq)
        // output head + loss, giving d(lnf) and (when it trains) d(wte)
        var result = ChunkedCrossEntropy.Result(lossSum: 0, count: 0)
        timed("output head + loss") { result = headLoss(a, withGradients: true, gradScale: gradScale) }
        finalNormBackward(a)
        gradientReadyHook?(.head)
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            // the last block's activations are still in the arena from the forward pass
            if recompute && l < config.layers - 1 { timed("recompute") { blockForward(l, a, recomputing: true) } }
            blockBackward(l, a)
            gradientReadyHook?(.block(l))
        }
        embeddingBackward(a)
        gradientReadyHook?(.embedding)
        return result
    }

    /// Backward through block `l`: on entry a.dres holds d(block output); on exit d(block input).
    func blockBackward(_ l: Int, _ a: GPT2Activations) {
        let c = config.embeddingSize, n = a.batch * a.seq
        let w = blockLayers(l), s = a.block(l), dr = a.dropped, sink = a.frozenNormGradients
        let x = a.residuals[l]
        // MLP: out = res2 + c_proj(gelu(c_fc(ln2(res2))))
        timed("bwd zero scratch") { a.dgelu.update(repeating: 0, count: 4 * n * c) }
        timed("bwd matmul fc proj") { w.fcProj.backward(dinp: a.dgelu, dout: a.dres, inp: s.fchGelu, hidden: s.hFCProj, scratch: a.dhidden, dropped: dr, rows: n) }
        timed("bwd zero scratch") { a.dfch.update(repeating: 0, count: 4 * n * c) }
        timed("bwd gelu") { GELU.backward(dinp: a.dfch, inp: s.fch, dout: a.dgelu, count: 4 * n * c) }
        timed("bwd zero scratch") { a.dln.update(repeating: 0, count: n * c) }
        timed("bwd matmul fc") { w.fc.backward(dinp: a.dln, dout: a.dfch, inp: s.ln2, hidden: s.hFC, scratch: a.dhidden, dropped: dr, rows: n) }
        timed("bwd layernorm") { LayerNorm.backward(dinp: a.dres, dweight: w.ln2WeightGrad ?? sink, dbias: w.ln2BiasGrad ?? sink + c, dout: a.dln, inp: s.res2,
                                                    weight: w.ln2Weight, mean: s.ln2Mean, rstd: s.ln2Rstd, rows: n, channels: c) }
        // attention: res2 = x + c_proj(attn(c_attn(ln1(x))))
        timed("bwd zero scratch") { a.datty.update(repeating: 0, count: n * c) }
        timed("bwd matmul attn proj") { w.proj.backward(dinp: a.datty, dout: a.dres, inp: s.atty, hidden: s.hProj, scratch: a.dhidden, dropped: dr, rows: n) }
        timed("bwd zero scratch") { a.dqkv.update(repeating: 0, count: 3 * n * c) }
        timed("bwd attention") { CausalSelfAttention.backward(dqkv: a.dqkv, dout: a.datty, qkv: s.qkv, att: s.att, batch: a.batch, seq: a.seq, channels: c, heads: config.heads) }
        timed("bwd zero scratch") { a.dln.update(repeating: 0, count: n * c) }
        timed("bwd matmul qkv") { w.attn.backward(dinp: a.dln, dout: a.dqkv, inp: s.ln1, hidden: s.hAttn, scratch: a.dhidden, dropped: dr, rows: n) }
        timed("bwd layernorm") { LayerNorm.backward(dinp: a.dres, dweight: w.ln1WeightGrad ?? sink, dbias: w.ln1BiasGrad ?? sink + c, dout: a.dln, inp: x,
                                                    weight: w.ln1Weight, mean: s.ln1Mean, rstd: s.ln1Rstd, rows: n, channels: c) }
    }

    public func zeroGradients() { gradients.buffer.zero() }
}
