import Distributed
import Foundation
import Models
import Tensor
import Training

/// Parallel training against a single-process reference: the ranks train a tiny model under a layout,
/// then rank 0 trains the same model on one process and reports the largest differences of the step
/// losses, validation losses and final weights.
///
/// Arguments: `<dp|pp|pp-lora|dp-pp> <output folder> [kill-at-step] [stop-at-step]`. With a kill step,
/// the last rank SIGKILLs itself while drawing that step's batches (mid-step; the others must throw);
/// with a stop step, the run stops there (leaving its checkpoint for a resume).
/// `resume <model> <output folder>` on one process resumes that folder's checkpoint to the end and
/// compares with an uninterrupted single-process run.
enum TrainingScenarios {
    static let steps = 4

    static func config() -> TrainingConfig {
        var c = TrainingConfig()
        c.steps = steps; c.batch = 4; c.seq = 16; c.gradAccumulation = 2
        c.learningRate = 1e-2; c.minLearningRate = 1e-3; c.warmupSteps = 2
        c.evalEvery = 2; c.evalBatches = 2; c.checkpointEvery = 2; c.seed = 7
        return c
    }

    static func corpus(_ n: Int, seed: UInt64) -> [Int32] {
        var rng = RandomGenerator(seed: seed)
        var v = 0
        return (0..<n).map { i in
            v = (v + 3) % 40
            return Int32(i % 13 == 0 ? rng.nextInt(below: 40) : v)
        }
    }

    static func source() -> ArrayTokenSource { ArrayTokenSource(train: corpus(3000, seed: 1), validation: corpus(400, seed: 2), seed: 3) }

    /// A fresh model of kind `kind` (same weights on every call).
    static func model(_ kind: String) throws -> TrainableLanguageModel {
        if kind.hasSuffix("lora") {
            let config = LlamaConfig(vocabSize: 40, hiddenSize: 32, intermediateSize: 64, layers: 4, heads: 4, kvHeads: 2,
                                     contextLength: 32, tieWordEmbeddings: true)
            let dense = try LlamaModel(config: config, seed: 11)
            let lora = try LoRAConfig(rank: 4, alpha: 8, dropout: 0, targets: try LoRATarget.parseList("q,k,v,o,gate,up,down"))
            var rng = RandomGenerator(seed: 12)
            let adapter = try LoRAAdapter(config: lora, base: .llama(config), rng: &rng)
            for m in adapter.modules { rng.fillNormal(adapter.b(m).buffer, std: 0.05) }
            return try LlamaModel(base: try LlamaFrozenBase(model: dense, format: .f32), adapter: adapter)
        }
        return try GPT2Model(config: GPT2Config(vocabSize: 40, contextLength: 32, layers: 4, heads: 2, embeddingSize: 32), seed: 11)
    }

    static func layout(_ kind: String, size: Int) -> ParallelLayout {
        switch kind {
        case "dp": return ParallelLayout(dataParallel: size, pipelineStages: 1, bucketBytes: 4096)
        case "dp-pp": return ParallelLayout(dataParallel: size / 2, pipelineStages: 2, microBatches: 2, bucketBytes: 4096)
        default: return ParallelLayout(dataParallel: 1, pipelineStages: size, microBatches: 2)
        }
    }

    static func run(_ world: Communicator, _ arguments: [String]) throws {
        guard arguments.count >= 2 else { throw SelftestFailure("train needs <mode> <output folder>") }
        let kind = arguments[0], folder = arguments[1]
        if kind == "resume" { return try resume(world, arguments) }
        let killStep = arguments.count > 2 ? Int(arguments[2]) : nil
        let stopStep = arguments.count > 3 ? Int(arguments[3]) : nil
        var training = config()
        training.recompute = kind.hasPrefix("pp")
        let parallelFolder = (folder as NSString).appendingPathComponent("parallel")
        var data: TokenBatchSource = source()
        if let killStep, world.rank == world.size - 1 {
            data = DyingSource(source(), dieAtDraw: killStep * training.gradAccumulation, rank: world.rank)
        }
        let model = try self.model(kind)
        if world.rank != 0 { model.parameters.buffer.zero() }  // the broadcast must bring rank 0's weights
        let trainer = try Trainer(model: model, data: data, config: training, outputDirectory: parallelFolder,
                                  communicator: world, layout: layout(kind, size: world.size))
        trainer.showProgress = false
        Report.line("EVENT layout rank=\(world.rank) \(trainer.rankDescription.replacingOccurrences(of: " ", with: "_"))")
        let start = Date()
        let summary: Trainer.Summary
        do {
            summary = try trainer.run(stoppingAt: stopStep)
        } catch let error as CommunicatorError {
            Report.line("EVENT caught rank=\(world.rank) at=\(Report.number(Report.wallClock())) waited=\(Report.number(Date().timeIntervalSince(start))) error=\(error.description)")
            throw error
        }
        guard world.rank == 0 else { return }
        let reference = try referenceRun(kind, folder: folder, recompute: training.recompute, stoppingAt: stopStep)
        let lossDiff = zip(summary.steps, reference.summary.steps).map { abs($0.loss - $1.loss) }.max() ?? .infinity
        let valDiff = zip(summary.validation, reference.summary.validation).map { abs($0.loss - $1.loss) }.max() ?? .infinity
        Report.line("RESULT train mode=\(kind) ranks=\(world.size) steps=\(summary.steps.count) reference_steps=\(reference.summary.steps.count) "
                    + "loss_diff=\(lossDiff) val_diff=\(valDiff) val_count=\(summary.validation.count) "
                    + "weight_diff=\(maxDifference(model, reference.model)) first_loss=\(summary.steps.first?.loss ?? .nan) "
                    + "last_loss=\(summary.steps.last?.loss ?? .nan) trainable=\(model.parameters.parameterCount)")
    }

    /// The same training on one process (rank 0 only).
    static func referenceRun(_ kind: String, folder: String, recompute: Bool, stoppingAt: Int?) throws -> (summary: Trainer.Summary, model: TrainableLanguageModel) {
        var training = config()
        training.recompute = recompute
        let model = try self.model(kind)
        let trainer = try Trainer(model: model, data: source(), config: training, outputDirectory: (folder as NSString).appendingPathComponent("reference"))
        trainer.showProgress = false
        return (try trainer.run(stoppingAt: stoppingAt), model)
    }

    /// One process resumes `<folder>/parallel` and trains to the end; compares with an uninterrupted run.
    static func resume(_ world: Communicator, _ arguments: [String]) throws {
        guard arguments.count >= 3 else { throw SelftestFailure("train resume needs <model kind> <output folder>") }
        let kind = arguments[1], folder = arguments[2]
        var training = config()
        training.recompute = kind.hasPrefix("pp")
        let model = try self.model(kind)
        let trainer = try Trainer(model: model, data: source(), config: training, outputDirectory: (folder as NSString).appendingPathComponent("parallel"),
                                  communicator: world, layout: world.size == 1 ? .single : layout(kind, size: world.size))
        trainer.showProgress = false
        try trainer.resume()
        let resumedAt = trainer.step
        let summary = try trainer.run()
        guard world.rank == 0 else { return }
        let reference = try referenceRun(kind, folder: folder, recompute: training.recompute, stoppingAt: nil)
        let tail = Array(reference.summary.steps.suffix(summary.steps.count))
        let lossDiff = zip(summary.steps, tail).map { abs($0.loss - $1.loss) }.max() ?? .infinity
        Report.line("RESULT resume mode=\(kind) ranks=\(world.size) resumed_at=\(resumedAt) steps=\(summary.steps.count) "
                    + "loss_diff=\(lossDiff) weight_diff=\(maxDifference(model, reference.model)) final_step=\(trainer.step)")
    }

    static func maxDifference(_ a: TrainableLanguageModel, _ b: TrainableLanguageModel) -> Float {
        let x = a.parameters.buffer, y = b.parameters.buffer
        guard x.count == y.count else { return .infinity }
        var worst: Float = 0
        for i in 0..<x.count { worst = max(worst, abs(x.pointer[i] - y.pointer[i])) }
        return worst
    }
}

/// A batch source that SIGKILLs its process when asked for draw number `dieAtDraw` (counted from 0).
final class DyingSource: TokenBatchSource {
    let base: TokenBatchSource
    let dieAtDraw: Int
    let rank: Int
    var draws = 0

    init(_ base: TokenBatchSource, dieAtDraw: Int, rank: Int) {
        self.base = base
        self.dieAtDraw = dieAtDraw
        self.rank = rank
    }

    func nextTrainingBatch(batch: Int, seq: Int) throws -> TrainingBatch {
        if draws == dieAtDraw {
            usleep(200_000)
            Report.line("EVENT dying rank=\(rank) draw=\(draws) at=\(Report.number(Report.wallClock()))")
            kill(getpid(), SIGKILL)
        }
        draws += 1
        return try base.nextTrainingBatch(batch: batch, seq: seq)
    }

    func validationBatches(batch: Int, seq: Int, maxBatches: Int) throws -> [TrainingBatch] {
        try base.validationBatches(batch: batch, seq: seq, maxBatches: maxBatches)
    }

    func saveState() throws -> Data { try base.saveState() }
    func restoreState(_ data: Data) throws { try base.restoreState(data) }
}
