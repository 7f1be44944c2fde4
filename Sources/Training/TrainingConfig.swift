import Foundation
import Optim

/// Everything that determines a training run besides the model and the data.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var steps: Int = 200
    public var batch: Int = 8
    public var seq: Int = 128
    public var gradAccumulation: Int = 1
    public var learningRate: Float = 6e-4
    public var minLearningRate: Float = 6e-5
    public var warmupSteps: Int = 20
    public var weightDecay: Float = 0.1
    public var beta1: Float = 0.9
    public var beta2: Float = 0.95
    public var eps: Float = 1e-8
    public var gradClip: Float = 1.0
    public var evalEvery: Int = 50
    public var evalBatches: Int = 8
    public var checkpointEvery: Int = 100
    public var logEvery: Int = 1
    public var seed: UInt64 = 1337
    public var recompute: Bool = false

    public init() {}

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(maxLR: learningRate, minLR: minLearningRate, warmupSteps: warmupSteps, totalSteps: steps)
    }

    public var adam: AdamW.Hyper { AdamW.Hyper(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay) }

    public var tokensPerStep: Int { batch * seq * gradAccumulation }

    public func validate(contextLength: Int) throws {
        func bad(_ m: String) -> TrainingError { .invalidConfig(m) }
        guard steps > 0 else { throw bad("steps must be positive, got \(steps)") }
        guard batch > 0 else { throw bad("batch must be positive, got \(batch)") }
        guard seq > 0 else { throw bad("sequence length must be positive, got \(seq)") }
        guard seq <= contextLength else { throw bad("sequence length \(seq) exceeds the model's context length \(contextLength)") }
        guard gradAccumulation > 0 else { throw bad("gradient accumulation must be positive, got \(gradAccumulation)") }
        guard learningRate > 0, minLearningRate >= 0, minLearningRate <= learningRate else {
            throw bad("learning rates must satisfy 0 <= min (\(minLearningRate)) <= max (\(learningRate)), max > 0")
        }
        guard warmupSteps >= 0 else { throw bad("warmup steps must not be negative") }
        guard evalEvery >= 0, checkpointEvery >= 0, evalBatches >= 0, logEvery > 0 else { throw bad("eval/checkpoint/log intervals must not be negative") }
    }
}
