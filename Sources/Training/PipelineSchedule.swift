/// The order in which one pipeline stage runs the forward and backward passes of a step's
/// micro-batches: 1F1B (PipeDream-flush). A stage first runs `stages - stage - 1` forwards (warm-up),
/// then alternates one forward and one backward, then drains the remaining backwards.
///
/// 1F1B has the same idle time as GPipe, (stages - 1) / (micro-batches + stages - 1) of the step, but a
/// stage holds the activations of at most `stages - stage` micro-batches instead of all of them, so
/// more micro-batches (a smaller bubble) fit in memory; it is chosen over GPipe for that reason.
public enum PipelineSchedule {
    public enum Operation: Equatable, Sendable {
        case forward(Int)
        case backward(Int)
    }

    /// The operations of `stage` (0-based) of `stages` for `microBatches` micro-batches.
    public static func oneForwardOneBackward(stage: Int, stages: Int, microBatches: Int) -> [Operation] {
        let warmup = min(stages - stage - 1, microBatches)
        var operations: [Operation] = []
        var forward = 0, backward = 0
        for _ in 0..<warmup { operations.append(.forward(forward)); forward += 1 }
        while forward < microBatches {
            operations.append(.forward(forward)); forward += 1
            operations.append(.backward(backward)); backward += 1
        }
        while backward < microBatches { operations.append(.backward(backward)); backward += 1 }
        return operations
    }

    /// The most micro-batches whose activations `stage` holds at once under 1F1B.
    public static func activationSlots(stage: Int, stages: Int, microBatches: Int) -> Int {
        min(stages - stage, microBatches)
    }
}
