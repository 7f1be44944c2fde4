import Foundation
import IO
import Models
import Optim
import Tensor

/// The pretraining loop: gradient accumulation, clipping, AdamW with warmup + cosine schedule,
/// periodic validation, atomic checkpoints that resume exactly, a JSON-lines log, a progress line
/// and an SVG loss curve in the output folder.
public final class Trainer {
    public struct StepRecord: Sendable, Equatable {
        public var step: Int
        public var loss: Float
        public var learningRate: Float
        public var gradNorm: Float
        public var tokensPerSecond: Double
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

    public var checkpointPath: String { (outputDirectory as NSString).appendingPathComponent("checkpoint.bin") }
    public var logPath: String { (outputDirectory as NSString).appendingPathComponent("log.jsonl") }
    public var curvePath: String { (outputDirectory as NSString).appendingPathComponent("loss.svg") }

    public init(model: TrainableLanguageModel, data: TokenBatchSource, config: TrainingConfig, outputDirectory: String) throws {
        try config.validate(contextLength: model.configuration.contextLength)
        self.model = model
        self.data = data
        self.config = config
        self.outputDirectory = outputDirectory
        model.recompute = config.recompute
        optimizer = AdamW(parameters: model.parameters, hyper: config.adam)
    }

    /// Restores weights, optimizer, step and data position from the checkpoint in the output folder.
    /// The training config must match the checkpoint's, except for the total number of steps.
    public func resume() throws {
        let ckpt = try Checkpoint(path: checkpointPath)
        guard ckpt.header.model == model.configuration else {
            throw TrainingError.checkpoint(path: checkpointPath, reason: "model config differs from the checkpoint's")
        }
        guard ckpt.header.adapter == (model as? LlamaModel)?.adapter?.config else {
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

    public func saveCheckpoint() throws {
        try Checkpoint.save(to: checkpointPath, model: model, optimizer: optimizer, training: config, step: step, dataState: try data.saveState())
    }

    /// Mean validation loss over the source's fixed validation batches (nil when it has none).
    public func validationLoss() throws -> Float? {
        let batches = try data.validationBatches(batch: config.batch, seq: config.seq, maxBatches: config.evalBatches)
        guard !batches.isEmpty else { return nil }
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
        let jsonLog = try JSONLinesLog(path: logPath, keepingStepsUpTo: step > 0 ? step : nil)
        let schedule = config.schedule
        let progress = ProgressLine(total: config.steps, unit: "steps", enabled: showProgress)
        let startStep = step
        let runStart = Date()
        var records: [StepRecord] = []
        var trained = 0
        var validation: [(step: Int, loss: Float)] = []
        if step == 0, config.evalEvery > 0, let v = try validationLoss() {
            validation.append((0, v))
            jsonLog.write(["step": 0, "val_loss": v])
        }
        while step < lastStep {
            let t0 = Date()
            let lr = schedule.rate(at: step)
            model.zeroGradients()
            var lossSum = 0.0, counted = 0, tokens = 0
            // the loss is the mean over every scored position of the optimizer batch, so the
            // micro-batches are drawn first and their scored positions counted
            let micro = try (0..<config.gradAccumulation).map { _ in try data.nextTrainingBatch(batch: config.batch, seq: config.seq) }
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
            let norm = GradientClipping.clip(g.pointer, count: g.count, maxNorm: config.gradClip)
            optimizer.update(params: model.parameters.buffer.pointer, grads: g.pointer, lr: lr)
            step += 1
            let loss = Float(lossSum / Double(max(counted, 1)))
            guard loss.isFinite else {
                throw TrainingError.data("loss became \(loss) at step \(step); lower the learning rate (now \(lr))")
            }
            let dt = Date().timeIntervalSince(t0)
            let rec = StepRecord(step: step, loss: loss, learningRate: lr, gradNorm: norm, tokensPerSecond: Double(tokens) / dt)
            records.append(rec)
            trained += tokens
            let isLast = step == lastStep
            if step % config.logEvery == 0 || isLast {
                jsonLog.write(["step": step, "loss": loss, "lr": lr, "grad_norm": norm, "tokens_per_s": rec.tokensPerSecond,
                               "ms_per_step": dt * 1000, "elapsed_s": Date().timeIntervalSince(runStart)])
                progress.update(done: step, startDone: startStep,
                                detail: String(format: "loss %.4f | lr %.2e | norm %.2f | %.0f tok/s", loss, lr, norm, rec.tokensPerSecond))
            }
            if config.evalEvery > 0, step % config.evalEvery == 0 || isLast, let v = try validationLoss() {
                validation.append((step, v))
                jsonLog.write(["step": step, "val_loss": v])
                log(String(format: "step %d: validation loss %.4f", step, v))
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
