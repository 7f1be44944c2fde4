import Training

/// The optimisation options `pretrain` and `finetune` share, read into a training config whose
/// current values are the defaults.
enum TrainingArguments {
    static func read(_ a: inout Arguments, into t: inout TrainingConfig) throws {
        t.steps = try a.int("steps", default: t.steps)
        t.batch = try a.int("batch", default: t.batch)
        t.gradAccumulation = try a.int("grad-accum", default: t.gradAccumulation)
        t.learningRate = try a.float("lr", default: t.learningRate)
        t.minLearningRate = try a.float("min-lr", default: t.learningRate / 10)
        t.warmupSteps = try a.int("warmup", default: t.warmupSteps)
        t.weightDecay = try a.float("weight-decay", default: t.weightDecay)
        t.gradClip = try a.float("clip", default: t.gradClip)
        t.evalEvery = try a.int("eval-every", default: t.evalEvery)
        t.evalBatches = try a.int("eval-batches", default: t.evalBatches)
        t.checkpointEvery = try a.int("checkpoint-every", default: t.checkpointEvery)
        t.seed = UInt64(try a.int("seed", default: Int(t.seed)))
        t.recompute = a.flag("recompute")
    }
}
