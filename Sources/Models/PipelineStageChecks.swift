import NN

/// Argument checks shared by the models' pipeline-stage methods.
enum PipelineStageChecks {
    static func arena(batch: Int, seq: Int, layers: Range<Int>, blockCount: Int, contextLength: Int) throws {
        guard batch > 0, seq > 0 else { throw ModelError.invalidInput("batch (\(batch)) and sequence length (\(seq)) must be positive") }
        guard seq <= contextLength else {
            throw ModelError.invalidInput("sequence length \(seq) exceeds the model's context length \(contextLength)")
        }
        guard !layers.isEmpty, layers.lowerBound >= 0, layers.upperBound <= blockCount else {
            throw ModelError.invalidInput("pipeline stage blocks \(layers) are not a non-empty part of 0..<\(blockCount)")
        }
    }

    static func tokens(_ tokens: [Int32], count: Int, vocab: Int) throws {
        guard tokens.count == count else { throw ModelError.invalidInput("expected \(count) tokens for the stage's micro-batch, got \(tokens.count)") }
        for (i, t) in tokens.enumerated() where t < 0 || Int(t) >= vocab {
            throw ModelError.invalidInput("token id \(t) at position \(i) is outside the vocabulary of \(vocab)")
        }
    }

    static func lastStage(_ arena: PipelineStageArena, blockCount: Int, targets: [Int32], vocab: Int) throws {
        guard arena.layers.upperBound == blockCount else {
            throw ModelError.invalidInput("the loss runs on the last pipeline stage; this stage ends at block \(arena.layers.upperBound) of \(blockCount)")
        }
        guard targets.count == arena.batch * arena.seq else {
            throw ModelError.invalidInput("expected \(arena.batch * arena.seq) targets for the stage's micro-batch, got \(targets.count)")
        }
        try targets.withUnsafeBufferPointer { try ChunkedCrossEntropy.validate(targets: $0.baseAddress!, count: targets.count, vocab: vocab) }
    }
}
