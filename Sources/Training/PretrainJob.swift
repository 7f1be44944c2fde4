import Data
import Foundation
import IO
import Models
import NN
import Tensor

/// `fingpt pretrain` as a library call: builds (or resumes) a GPT-2 model for a prepared corpus and
/// trains it, writing checkpoint.bin, log.jsonl, loss.svg and config.json into the output folder.
public struct PretrainJob {
    /// A preset name (`gpt2`, `small`, `mini`, `tiny`) or a path to a config.json.
    public var model: String = "mini"
    public var dataDirectory: String
    public var outputDirectory: String
    public var training = TrainingConfig()
    /// Continue from `outputDirectory/checkpoint.bin` with its model and training config
    /// (`steps` may be raised).
    public var resume = false
    /// When set, the number of steps is chosen so that the run takes about this long.
    public var minutes: Double?
    /// Overrides of the preset's context length (smaller contexts train faster).
    public var contextLength: Int?
    /// Factorise the new model's block linears (FinGPT-HPC low-rank pretraining from scratch).
    public var lowRank: LowRankPlan?
    /// Start from the weights of this checkpoint (e.g. a model factorised by `fingpt lowrank`) with a
    /// fresh optimizer and schedule, instead of a random initialisation.
    public var initFrom: String?
    public var showProgress = true

    public init(dataDirectory: String, outputDirectory: String) {
        self.dataDirectory = dataDirectory
        self.outputDirectory = outputDirectory
    }

    public func run(log: @escaping (String) -> Void) throws -> Trainer.Summary {
        var training = self.training
        let model: GPT2Model
        let checkpointPath = (outputDirectory as NSString).appendingPathComponent("checkpoint.bin")
        if resume {
            let ckpt = try Checkpoint(path: checkpointPath)
            if var saved = ckpt.header.training {
                saved.steps = max(training.steps, saved.steps)
                training = saved
            }
            model = try ckpt.loadModel()
            log("resuming from \(checkpointPath) at step \(ckpt.header.step) of \(training.steps)")
        } else if let initFrom {
            guard lowRank == nil else { throw TrainingError.invalidConfig("--init takes the model from the checkpoint; factorise it with `fingpt lowrank` instead of --low-rank") }
            model = try Checkpoint(path: initFrom).loadModel()
            log("initialised from \(initFrom)")
        } else {
            var config = try GPT2Config.load(presetOrPath: self.model)
            if let contextLength { config.contextLength = contextLength }
            let vocab = try ShardTokenSource.manifest(in: dataDirectory).0.tokenizer.vocabularySize
            config.vocabSize = vocab
            if let lowRank { config = try config.withLowRank(lowRank) }
            try config.validate()
            model = try GPT2Model(config: config, seed: training.seed)
        }
        try training.validate(contextLength: model.config.contextLength)
        let source = try ShardTokenSource(directory: dataDirectory, batch: training.batch, seq: training.seq,
                                          seed: training.seed &+ 1, contextLength: model.config.contextLength)
        guard source.vocabularySize == model.config.vocabSize else {
            throw TrainingError.data("\(dataDirectory): tokens come from a vocabulary of \(source.vocabularySize), the model has \(model.config.vocabSize)")
        }
        if !resume, let minutes {
            training.steps = try PretrainJob.steps(for: minutes, model: model, training: training)
            log(String(format: "time budget %.1f min: %d steps", minutes, training.steps))
        }
        let c = model.config
        log(String(format: "model: GPT-2 %d layers, %d wide, %d heads, context %d, vocab %d, %.2fM parameters%@",
                   c.layers, c.embeddingSize, c.heads, c.contextLength, c.vocabSize, Double(c.parameterCount) / 1e6,
                   c.lowRankRanks.isEmpty ? "" : String(format: " (%d linear layers factorised, linear parameters %.2fx smaller)", c.lowRankRanks.count,
                                                        Double(c.denseLinearParameterCount) / Double(c.linearParameterCount))))
        log("data: \(source.manifest.trainTokens) training and \(source.manifest.valTokens) validation tokens from \(dataDirectory)")
        let trainer = try Trainer(model: model, data: source, config: training, outputDirectory: outputDirectory)
        trainer.showProgress = showProgress
        trainer.log = log
        if resume { try trainer.resume() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(model.config), to: (outputDirectory as NSString).appendingPathComponent("config.json"))
        return try trainer.run()
    }

    /// Steps that fit in `minutes`, from timing two forward+backward passes on random tokens (the
    /// model's gradients are cleared afterwards; weights and data are untouched).
    static func steps(for minutes: Double, model: GPT2Model, training: TrainingConfig) throws -> Int {
        var rng = RandomGenerator(seed: 0)
        let n = training.batch * training.seq
        let tokens = (0..<n).map { _ in Int32(rng.nextInt(below: model.config.vocabSize)) }
        _ = try model.forwardBackward(tokens: tokens, targets: tokens, batch: training.batch, seq: training.seq, gradScale: 0)
        let t0 = Date()
        _ = try model.forwardBackward(tokens: tokens, targets: tokens, batch: training.batch, seq: training.seq, gradScale: 0)
        let perMicroBatch = Date().timeIntervalSince(t0)
        model.zeroGradients()
        let perStep = perMicroBatch * Double(training.gradAccumulation) * 1.05
        let evalShare = training.evalEvery > 0 ? Double(training.evalBatches) / (3 * Double(training.evalEvery)) : 0
        return max(10, Int(minutes * 60 / (perStep * (1 + evalShare))))
    }
}
