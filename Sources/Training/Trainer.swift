import Distributed
import Foundation
import IO
import Models
import Optim
import Tensor

/// The pretraining loop: gradient accumulation, clipping, AdamW with warmup + cosine schedule,
/// periodic validation, atomic checkpoints that resume exactly, a JSON-lines log, a progress line
/// and an SVG loss curve in the output folder.
///
/// Under `mpirun`, pass the world communicator and a `ParallelLayout`: the ranks then train one model
/// data-parallel and/or pipeline-parallel (see `ParallelStepRunner`); every rank calls the same
/// methods in the same order, and rank 0 alone writes the log, the loss curve and the checkpoints.
public final class Trainer {
    public struct StepRecord: Sendable, Equatable {
        public var step: Int
        public var loss: Float
        public var learningRate: Float
        public var gradNorm: Float
        public var tokensPerSecond: Double
        /// Seconds of the step spent waiting on communication (mean over ranks; 0 on one process).
        public var communicationSeconds: Double = 0
        /// Seconds of the step spent computing forward and backward (mean over ranks; 0 on one process).
        public var computeSeconds: Double = 0
    }

    public struct Summary: Sendable {
        public var steps: [StepRecord]
        public var validation: [(step: Int, loss: Float)]
        public var tokensPerSecond: Double
        public var seconds: Double
        public var checkpointPath: String
    }

    public let model: TrainableLanguageModel
    public let data: TokenBatchSource
    public private(set) var config: TrainingConfig
    public let outputDirectory: String
    public let optimizer: AdamW
    public var showProgress: Bool = true
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// Completed optimizer steps.
    public private(set) var step: Int = 0
    /// The processes of the run (a single process unless launched by mpirun).
    public let communicator: Communicator
    public let layout: ParallelLayout
    let runner: ParallelStepRunner?
    /// Whether this process writes logs, curves and checkpoints (world rank 0).
    public var isLoggingRank: Bool { communicator.rank == 0 }
    /// This rank's part of the layout (for start-up messages).
    public var rankDescription: String { runner?.stageDescription ?? "single process" }

    public var checkpointPath: String { (outputDirectory as NSString).appendingPathComponent("checkpoint.bin") }
    public var logPath: String { (outputDirectory as NSString).appendingPathComponent("log.jsonl") }
    public var curvePath: String { (outputDirectory as NSString).appendingPathComponent("loss.svg") }

    /// A trainer on one process, or with `communicator` (all ranks of an mpirun job) and `layout`
    /// a parallel one; the latter is collective: every rank constructs its trainer in the same order.
    public init(model: TrainableLanguageModel, data: TokenBatchSource, config: TrainingConfig, outputDirectory: String,
                communicator: Communicator = SingleProcessCommunicator(), layout: ParallelLayout = .single) throws {
        try config.validate(contextLength: model.configuration.contextLength)
        self.model = model
        self.data = data
        self.config = config
        self.outputDirectory = outputDirectory
        self.communicator = communicator
        self.layout = layout
        model.recompute = config.recompute
        if layout.isSingleProcess && communicator.size == 1 {
            runner = nil
            optimizer = AdamW(parameters: model.parameters, hyper: config.adam)
        } else {
            let runner = try ParallelStepRunner(model: model, world: communicator, layout: layout, batch: config.batch)
            self.runner = runner
            optimizer = AdamW(size: model.parameters.buffer.count, segments: runner.optimizerSegments, hyper: config.adam)
        }
    }

    /// Restores weights, optimizer, step and data position from the checkpoint in the output folder.
    /// The training config must match the checkpoint's, except for the total number of steps.
    public func resume() throws {
        let ckpt = try Checkpoint(path: checkpointPath)
        guard ckpt.header.model == model.configuration else {
            throw TrainingError.checkpoint(path: checkpointPath, reason: "model config differs from the checkpoint's")
        }
        guard ckpt.header.adapter == model.adapter?.config else {
            throw TrainingError.checkpoint(path: checkpointPath, reason: "LoRA settings differ from the checkpoint's")
        }
        if var saved = ckpt.header.training {
            saved.steps = config.steps
            guard saved == config else {
                throw TrainingError.checkpoint(path: checkpointPath, reason: "training config differs from the checkpoint's (only --steps may change on resume)")
            }
        }
        try ckpt.read(section: "parameters", into: model.parameters.buffer)
        try ckpt.restore(optimizer: optimizer)
        if let state = ckpt.header.dataState { try data.restoreState(state) }
        step = ckpt.header.step
    }

    /// Writes the checkpoint (on rank 0, after collecting the pipeline stages' weights there; collective
    /// under a parallel layout).
    public func saveCheckpoint() throws {
        try gatherModel()
        guard isLoggingRank else { return }
        try Checkpoint.save(to: checkpointPath, model: model, optimizer: optimizer, training: config, step: step, dataState: try data.saveState())
    }

    /// With pipeline stages, copies every stage's weights and optimizer moments to rank 0 (whose model
    /// then holds the whole trained model); a no-op otherwise. Collective.
    public func gatherModel() throws {
        try runner?.gatherOnRankZero(optimizer: optimizer)
    }

    /// Mean validation loss over the source's fixed validation batches (nil when it has none).
    public func validationLoss() throws -> Float? {
        let batches = try data.validationBatches(batch: config.batch, seq: config.seq, maxBatches: config.evalBatches)
        guard !batches.isEmpty else { return nil }
        if let runner {
            let total = try runner.validationLoss(batches: batches, config: config)
            return total.count > 0 ? Float(total.sum / Double(total.count)) : nil
        }
        var sum = 0.0, count = 0
        for b in batches {
            let r = try model.loss(tokens: b.inputs, targets: b.targets, batch: b.shape?.batch ?? config.batch, seq: b.shape?.seq ?? config.seq)
            sum += r.lossSum
            count += r.count
        }
        return count > 0 ? Float(sum / Double(count)) : nil
    }

    /// Trains from the current step to `config.steps`, or only up to step `stoppingAt` (the run can
    /// then be resumed from its checkpoint as if it had never stopped).
    @discardableResult
    public func run(stoppingAt: Int? = nil) throws -> Summary {
        let lastStep = min(config.steps, stoppingAt ?? config.steps)
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let jsonLog = isLoggingRank ? try JSONLinesLog(path: logPath, keepingStepsUpTo: step > 0 ? step : nil) : nil
        let schedule = config.schedule
        let progress = ProgressLine(total: config.steps, unit: "steps", enabled: showProgress && isLoggingRank)
        try runner?.broadcastWeights()
        let startStep = step
        let runStart = Date()
        var records: [StepRecord] = []
        var trained = 0
        var validation: [(step: Int, loss: Float)] = []
        if step == 0, config.evalEvery > 0, let v = try validationLoss() {
            validation.append((0, v))
            jsonLog?.write(["step": 0, "val_loss": v])
        }
        while step < lastStep {
            let t0 = Date()
            let lr = schedule.rate(at: step)
            var lossSum = 0.0, counted = 0, tokens = 0
            // the loss is the mean over every scored position of the optimizer batch, so the
            // micro-batches are drawn first and their scored positions counted
            let micro = try (0..<config.gradAccumulation).map { _ in try data.nextTrainingBatch(batch: config.batch, seq: config.seq) }
            let norm: Float
            var waited = 0.0, computed = 0.0
            if let runner {
                let outcome = try runner.step(batches: micro, config: config, stepIndex: step, optimizer: optimizer, lr: lr)
                lossSum = outcome.lossSum
                counted = outcome.count
                norm = outcome.norm
                waited = outcome.waitSeconds
                computed = outcome.computeSeconds
                tokens = micro.reduce(0) { $0 + ($1.shape.map { $0.batch * $0.seq } ?? config.batch * config.seq) }
            } else {
                model.zeroGradients()
                let scored = Float(max(1, micro.reduce(0) { $0 + $1.scoredPositions }))
                for (i, b) in micro.enumerated() {
                    let (bs, sq) = b.shape ?? (config.batch, config.seq)
                    model.setStochasticSeed(config.seed &+ UInt64(step * config.gradAccumulation + i) &* 0x2545_F491_4F6C_DD1D)
                    let r = try model.forwardBackward(tokens: b.inputs, targets: b.targets, batch: bs, seq: sq, gradScale: 1 / scored)
                    lossSum += r.lossSum
                    counted += r.count
                    tokens += bs * sq
                }
                let g = model.gradients.buffer
                norm = GradientClipping.clip(g.pointer, count: g.count, maxNorm: config.gradClip)
                optimizer.update(params: model.parameters.buffer.pointer, grads: g.pointer, lr: lr)
            }
            step += 1
            let loss = Float(lossSum / Double(max(counted, 1)))
            guard loss.isFinite else {
                throw TrainingError.data("loss became \(loss) at step \(step); lower the learning rate (now \(lr))")
            }
            let dt = Date().timeIntervalSince(t0)
            let rec = StepRecord(step: step, loss: loss, learningRate: lr, gradNorm: norm, tokensPerSecond: Double(tokens) / dt,
                                 communicationSeconds: waited, computeSeconds: computed)
            records.append(rec)
            trained += tokens
            let isLast = step == lastStep
            if step % config.logEvery == 0 || isLast {
                var entry: [String: Any] = ["step": step, "loss": loss, "lr": lr, "grad_norm": norm, "tokens_per_s": rec.tokensPerSecond,
                                            "ms_per_step": dt * 1000, "elapsed_s": Date().timeIntervalSince(runStart)]
                if runner != nil { entry["comm_wait_ms"] = waited * 1000; entry["compute_ms"] = computed * 1000; entry["ranks"] = communicator.size }
                jsonLog?.write(entry)
                progress.update(done: step, startDone: startStep,
                                detail: String(format: "loss %.4f | lr %.2e | norm %.2f | %.0f tok/s", loss, lr, norm, rec.tokensPerSecond))
            }
            if config.evalEvery > 0, step % config.evalEvery == 0 || isLast, let v = try validationLoss() {
                validation.append((step, v))
                jsonLog?.write(["step": step, "val_loss": v])
                if isLoggingRank { log(String(format: "step %d: validation loss %.4f", step, v)) }
            }
            if (config.checkpointEvery > 0 && step % config.checkpointEvery == 0) || isLast {
                try saveCheckpoint()
                writeLossCurve()
            }
        }
        let seconds = Date().timeIntervalSince(runStart)
        writeLossCurve()
        return Summary(steps: records, validation: validation, tokensPerSecond: seconds > 0 ? Double(trained) / seconds : 0,
                       seconds: seconds, checkpointPath: checkpointPath)
    }

    /// Redraws loss.svg from the whole JSON-lines log (so a resumed run's curve includes earlier steps).
    public func writeLossCurve() {
        guard isLoggingRank else { return }
        let entries = JSONLinesLog.read(path: logPath)
        let train = entries.compactMap { e -> (step: Int, loss: Double)? in
            guard let s = (e["step"] as? NSNumber)?.intValue, let l = (e["loss"] as? NSNumber)?.doubleValue else { return nil }
            return (s, l)
        }
        let val = entries.compactMap { e -> (step: Int, loss: Double)? in
            guard let s = (e["step"] as? NSNumber)?.intValue, let l = (e["val_loss"] as? NSNumber)?.doubleValue else { return nil }
            return (s, l)
        }
        let svg = LossCurveSVG.render(train: train, validation: val, title: model.configuration.summary + " loss")
        try? AtomicFile.write(Data(svg.utf8), to: curvePath)
    }
}
