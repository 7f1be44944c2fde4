import NN
import Tensor

extension LlamaModel: PipelineStageModel {
    public var blockCount: Int { config.layers }
    public var hiddenWidth: Int { config.hiddenSize }
    /// The embedding when it is trainable and doubles as the output head.
    public var tiedHeadParameter: String? { frozen == nil && config.tieWordEmbeddings ? "model.embed_tokens.weight" : nil }

    public func gradientGroup(ofParameter name: String) -> GradientGroup {
        GradientGroup(parameterName: name, blockPrefix: "model.layers.", embeddingNames: ["model.embed_tokens.weight"])
    }

    public func makeStageArena(batch: Int, seq: Int, layers: Range<Int>) throws -> PipelineStageArena {
        try PipelineStageChecks.arena(batch: batch, seq: seq, layers: layers, blockCount: config.layers, contextLength: config.contextLength)
        let a = LlamaActivations(config: config, batch: batch, seq: seq, recompute: recompute, hiddenRanks: hiddenRanks,
                                 droppedWidth: droppedWidth, layers: layers)
        return PipelineStageArena(storage: a, batch: batch, seq: seq, layers: layers, width: config.hiddenSize,
                                  input: a.residuals[layers.lowerBound], output: a.residuals[layers.upperBound], gradient: a.dres)
    }

    func activations(of arena: PipelineStageArena) throws -> LlamaActivations {
        guard let a = arena.storage as? LlamaActivations, a.recompute == recompute else {
            throw ModelError.invalidInput("the pipeline arena was made by another model or before `recompute` changed")
        }
        return a
    }

    public func stageForward(_ arena: PipelineStageArena, tokens: [Int32], training: Bool) throws {
        let a = try activations(of: arena)
        let n = a.batch * a.seq, c = config.hiddenSize
        self.training = training
        defer { self.training = false }
        if arena.layers.lowerBound == 0 {
            try PipelineStageChecks.tokens(tokens, count: n, vocab: config.vocabSize)
            a.tokens.update(from: tokens, count: n)
            timed("embedding") {
                if let table = frozen?.embedding {
                    for i in 0..<n { table.row(Int(a.tokens[i]), into: a.residuals[0] + i * c) }
                } else {
                    Embedding.forward(out: a.residuals[0], tokens: a.tokens, wte: parameters.pointer("model.embed_tokens.weight"), wpe: nil,
                                      batch: a.batch, seq: a.seq, channels: c)
                }
            }
        }
        for l in arena.layers { blockForward(l, a) }
        if arena.layers.upperBound == config.layers {
            RMSNorm.forward(out: a.lnf, rstd: a.rstdf, inp: a.residuals[config.layers], weight: weight("model.norm.weight"),
                            rows: n, channels: c, eps: config.rmsNormEpsilon)
        }
    }

    public func stageLoss(_ arena: PipelineStageArena, targets: [Int32], gradScale: Float?) throws -> ChunkedCrossEntropy.Result {
        try PipelineStageChecks.lastStage(arena, blockCount: config.layers, targets: targets, vocab: config.vocabSize)
        let a = try activations(of: arena)
        let n = a.batch * a.seq, c = config.hiddenSize
        a.targets.update(from: targets, count: n)
        guard let gradScale else { return headLoss(x: a.lnf, targets: a.targets, rows: n, dx: nil, gradScale: 1) }
        a.dln.update(repeating: 0, count: n * c)
        var result = ChunkedCrossEntropy.Result(lossSum: 0, count: 0)
        timed("output head + loss") { result = headLoss(x: a.lnf, targets: a.targets, rows: n, dx: a.dln, gradScale: gradScale) }
        a.dres.update(repeating: 0, count: n * c)
        RMSNorm.backward(dinp: a.dres, dweight: weightGrad("model.norm.weight"), dout: a.dln, inp: a.residuals[config.layers],
                         weight: weight("model.norm.weight"), rstd: a.rstdf, rows: n, channels: c)
        gradientReadyHook?(.head)
        return result
    }

    public func stageBackward(_ arena: PipelineStageArena) throws {
        let a = try activations(of: arena)
        training = true
        defer { training = false }
        for l in arena.layers.reversed() {
            if recompute { timed("recompute") { blockForward(l, a, recomputing: true) } }
            blockBackward(l, a)
            gradientReadyHook?(.block(l))
        }
        if arena.layers.lowerBound == 0 {
            if frozen == nil { timed("embedding") {
                Embedding.backward(dwte: gradients.pointer("model.embed_tokens.weight"), dwpe: nil, dout: a.dres, tokens: a.tokens,
                                   batch: a.batch, seq: a.seq, channels: config.hiddenSize)
            } }
            gradientReadyHook?(.embedding)
        }
    }
}
