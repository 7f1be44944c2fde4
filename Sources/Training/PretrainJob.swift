import Data
import Distributed
import Foundation
import IO
import Models
import NN
import Tensor

/// `fingpt pretrain` as a library call: builds (or resumes) a GPT-2 or LLaMA model for a prepared
/// corpus and trains it, writing checkpoint.bin, log.jsonl, loss.svg and config.json into the output
/// folder. A model can start from scratch (a preset or config, dense or low-rank), from a checkpoint,
/// or from a pretrained model file (GGUF, Hugging Face folder), optionally factorised by truncated SVD
/// first (FinGPT-HPC's method 2).
public struct PretrainJob {
    /// A preset name (GPT-2: `gpt2`, `small`, `mini`, `tiny`; LLaMA: `smollm2-135m`, `llama-small`,
    /// `llama-mini`) or a path to a config.json.
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
    /// Factorise the block linears: of the new model (low-rank pretraining from scratch), or of the
    /// `initFrom` model by truncated SVD (energy thresholds allowed there).
    public var lowRank: LowRankPlan?
    /// Start from the weights of this model (a checkpoint, e.g. one factorised by `fingpt lowrank`, a
    /// GGUF file or a Hugging Face folder) with a fresh optimizer and schedule.
    public var initFrom: String?
    public var showProgress = true
    /// All processes of the run (a single process unless launched by mpirun) and how they split the work.
    public var communicator: Communicator = SingleProcessCommunicator()
    public var layout: ParallelLayout = .single

    public init(dataDirectory: String, outputDirectory: String) {
        self.dataDirectory = dataDirectory
        self.outputDirectory = outputDirectory
    }

    public func run(log: @escaping (String) -> Void) throws -> Trainer.Summary {
        var training = self.training
        var model: TrainableLanguageModel
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
            model = try TrainableModelLoader.load(path: initFrom)
            log("initialised from \(initFrom)")
            if let lowRank {
                let (factorised, report) = try LowRankFactorizer.factorize(model, plan: lowRank)
                let kept = report.filter { $0.rank != nil }
                let meanEnergy = kept.isEmpty ? 1 : kept.reduce(0) { $0 + $1.energyKept } / Double(kept.count)
                log(String(format: "factorised %d of %d block linears by truncated SVD (mean energy kept %.3f)", kept.count, report.count, meanEnergy))
                model = factorised
            }
        } else {
            let vocab = try ShardTokenSource.manifest(in: dataDirectory).0.tokenizer.vocabularySize
            var config = try ModelConfiguration.load(presetOrPath: self.model).with(vocabularySize: vocab, contextLength: contextLength)
            if let lowRank { config = try config.withLowRank(lowRank) }
            try config.validate()
            model = try config.makeModel(seed: training.seed)
        }
        let config = model.configuration
        try training.validate(contextLength: config.contextLength)
        let source = try ShardTokenSource(directory: dataDirectory, batch: training.batch, seq: training.seq,
                                          seed: training.seed &+ 1, contextLength: config.contextLength)
        guard source.vocabularySize == config.vocabularySize else {
            throw TrainingError.data("\(dataDirectory): tokens come from a vocabulary of \(source.vocabularySize), the model has \(config.vocabularySize)")
        }
        if !resume, let minutes {
            training.steps = try PretrainJob.steps(for: minutes, model: model, training: training)
            // every rank must run the same number of steps: rank 0's estimate wins
            let agreed = try communicator.broadcast(bytes: Array(String(training.steps).utf8), root: 0)
            training.steps = Int(String(decoding: agreed, as: UTF8.self)) ?? training.steps
            log(String(format: "time budget %.1f min: %d steps", minutes, training.steps))
        }
        let w = config.linearWeightCounts
        log("model: " + config.summary + String(format: ", context %d, vocab %d", config.contextLength, config.vocabularySize)
            + (config.lowRankRanks.isEmpty ? "" : String(format: " (linear weights %.2fx smaller)", Double(w.dense) / Double(w.actual))))
        log("data: \(source.manifest.trainTokens) training and \(source.manifest.valTokens) validation tokens from \(dataDirectory)")
        let trainer = try Trainer(model: model, data: source, config: training, outputDirectory: outputDirectory,
                                  communicator: communicator, layout: layout)
        trainer.showProgress = showProgress
        trainer.log = log
        if !layout.isSingleProcess {
            log(String(format: "parallel: %d data-parallel x %d pipeline stages%@ on %d ranks", layout.dataParallel, layout.pipelineStages,
                       layout.pipelineStages > 1 ? " x \(layout.microBatches) micro-batches (1F1B)" : "", communicator.size))
        }
        if resume { try trainer.resume() }
        if trainer.isLoggingRank {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            try AtomicFile.write(try prettyJSON(config), to: (outputDirectory as NSString).appendingPathComponent("config.json"))
        }
        return try trainer.run()
    }

    func prettyJSON(_ config: ModelConfiguration) throws -> Data {
        let object = try JSONSerialization.jsonObject(with: try config.json())
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// Steps that fit in `minutes`, from timing two forward+backward passes on random tokens (the
    /// model's gradients are cleared afterwards; weights and data are untouched).
    static func steps(for minutes: Double, model: TrainableLanguageModel, training: TrainingConfig) throws -> Int {
        var rng = RandomGenerator(seed: 0)
        let n = training.batch * training.seq
        let tokens = (0..<n).map { _ in Int32(rng.nextInt(below: model.configuration.vocabularySize)) }
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
