import NN
import Tensor

extension GPT2Model: PipelineStageModel {
    public var blockCount: Int { config.layers }
    public var hiddenWidth: Int { config.embeddingSize }
    /// GPT-2's output head is the token embedding.
    public var tiedHeadParameter: String? { "transformer.wte.weight" }

    public func gradientGroup(ofParameter name: String) -> GradientGroup {
        GradientGroup(parameterName: name, blockPrefix: "transformer.h.", embeddingNames: ["transformer.wte.weight", "transformer.wpe.weight"])
    }

    public func makeStageArena(batch: Int, seq: Int, layers: Range<Int>) throws -> PipelineStageArena {
        try PipelineStageChecks.arena(batch: batch, seq: seq, layers: layers, blockCount: config.layers, contextLength: config.contextLength)
        let a = GPT2Activations(config: config, batch: batch, seq: seq, recompute: recompute, layers: layers)
        return PipelineStageArena(storage: a, batch: batch, seq: seq, layers: layers, width: config.embeddingSize,
                                  input: a.residuals[layers.lowerBound], output: a.residuals[layers.upperBound], gradient: a.dres)
    }

    func activations(of arena: PipelineStageArena) throws -> GPT2Activations {
        guard let a = arena.storage as? GPT2Activations, a.recompute == recompute else {
            throw ModelError.invalidInput("the pipeline arena was made by another model or before `recompute` changed")
        }
        return a
    }

    public func stageForward(_ arena: PipelineStageArena, tokens: [Int32], training: Bool) throws {
        let a = try activations(of: arena)
        let n = a.batch * a.seq, c = config.embeddingSize
        if arena.layers.lowerBound == 0 {
            try PipelineStageChecks.tokens(tokens, count: n, vocab: config.vocabSize)
            a.tokens.update(from: tokens, count: n)
            timed("embedding") { Embedding.forward(out: a.residuals[0], tokens: a.tokens, wte: parameters.pointer("transformer.wte.weight"),
                                                   wpe: parameters.pointer("transformer.wpe.weight"), batch: a.batch, seq: a.seq, channels: c) }
        }
        for l in arena.layers { blockForward(l, a) }
        if arena.layers.upperBound == config.layers {
            LayerNorm.forward(out: a.lnf, mean: a.lnfMean, rstd: a.lnfRstd, inp: a.residuals[config.layers],
                              weight: parameters.pointer("transformer.ln_f.weight"), bias: parameters.pointer("transformer.ln_f.bias"),
                              rows: n, channels: c, eps: config.layerNormEpsilon)
        }
    }

    public func stageLoss(_ arena: PipelineStageArena, targets: [Int32], gradScale: Float?) throws -> ChunkedCrossEntropy.Result {
        try PipelineStageChecks.lastStage(arena, blockCount: config.layers, targets: targets, vocab: config.vocabSize)
        let a = try activations(of: arena)
        let n = a.batch * a.seq, c = config.embeddingSize
        a.targets.update(from: targets, count: n)
        let wte = parameters.pointer("transformer.wte.weight")
        guard let gradScale else {
            return lossHead.run(x: a.lnf, weight: wte, targets: a.targets, rows: n, channels: c, dx: nil, dweight: nil)
        }
        let g = gradients
        a.dln.update(repeating: 0, count: n * c)
        var result = ChunkedCrossEntropy.Result(lossSum: 0, count: 0)
        timed("output head + loss") { result = lossHead.run(x: a.lnf, weight: wte, targets: a.targets, rows: n, channels: c, dx: a.dln,
                                                            dweight: g.pointer("transformer.wte.weight"), gradScale: gradScale) }
        a.dres.update(repeating: 0, count: n * c)
        LayerNorm.backward(dinp: a.dres, dweight: g.pointer("transformer.ln_f.weight"), dbias: g.pointer("transformer.ln_f.bias"),
                           dout: a.dln, inp: a.residuals[config.layers], weight: parameters.pointer("transformer.ln_f.weight"),
                           mean: a.lnfMean, rstd: a.lnfRstd, rows: n, channels: c)
        gradientReadyHook?(.head)
        return result
    }

    public func stageBackward(_ arena: PipelineStageArena) throws {
        let a = try activations(of: arena)
        for l in arena.layers.reversed() {
            if recompute { timed("recompute") { blockForward(l, a) } }
            blockBackward(l, a)
            gradientReadyHook?(.block(l))
        }
        if arena.layers.lowerBound == 0 {
            timed("embedding") { Embedding.backward(dwte: gradients.pointer("transformer.wte.weight"), dwpe: gradients.pointer("transformer.wpe.weight"),
                                                    dout: a.dres, tokens: a.tokens, batch: a.batch, seq: a.seq, channels: config.embeddingSize) }
            gradientReadyHook?(.embedding)
        }
    }
}
