import NN
import Tensor

extension GPT2Model: PipelineStageModel {
    public var blockCount: Int { config.layers }
    public var hiddenWidth: Int { config.embeddingSize }
    /// GPT-2's output head is the token embedding (a parameter only when it trains).
    public var tiedHeadParameter: String? { frozen == nil ? "transformer.wte.weight" : nil }

    public func gradientGroup(ofParameter name: String) -> GradientGroup {
        GradientGroup(parameterName: name, blockPrefix: "transformer.h.", embeddingNames: ["transformer.wte.weight", "transformer.wpe.weight"])
    }

    public func makeStageArena(batch: Int, seq: Int, layers: Range<Int>) throws -> PipelineStageArena {
        try PipelineStageChecks.arena(batch: batch, seq: seq, layers: layers, blockCount: config.layers, contextLength: config.contextLength)
        let a = GPT2Activations(config: config, batch: batch, seq: seq, recompute: recompute, hiddenRanks: hiddenRanks,
                                droppedWidth: droppedWidth, layers: layers)
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
        let n = a.batch * a.seq
        self.training = training
        defer { self.training = false }
        if arena.layers.lowerBound == 0 {
            try PipelineStageChecks.tokens(tokens, count: n, vocab: config.vocabSize)
            a.tokens.update(from: tokens, count: n)
            embed(a)
        }
        for l in arena.layers { blockForward(l, a) }
        if arena.layers.upperBound == config.layers { finalNorm(a) }
    }

    public func stageLoss(_ arena: PipelineStageArena, targets: [Int32], gradScale: Float?) throws -> ChunkedCrossEntropy.Result {
        try PipelineStageChecks.lastStage(arena, blockCount: config.layers, targets: targets, vocab: config.vocabSize)
        let a = try activations(of: arena)
        a.targets.update(from: targets, count: a.batch * a.seq)
        guard let gradScale else { return headLoss(a, withGradients: false, gradScale: 1) }
        var result = ChunkedCrossEntropy.Result(lossSum: 0, count: 0)
        timed("output head + loss") { result = headLoss(a, withGradients: true, gradScale: gradScale) }
        finalNormBackward(a)
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
            embeddingBackward(a)
            gradientReadyHook?(.embedding)
        }
    }
}
