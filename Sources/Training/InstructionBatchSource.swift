import Data
import Foundation

/// Instruction data as the trainer's batch source: length-bucketed training batches (each with its
/// own padded length) from an `InstructionBatcher`, and fixed validation batches from held-out rows.
public final class InstructionBatchSource: TokenBatchSource {
    public let batcher: InstructionBatcher
    public let validation: [InstructionBatch]

    public init(batcher: InstructionBatcher, validation: [InstructionBatch]) {
        self.batcher = batcher
        self.validation = validation
    }

    public func nextTrainingBatch(batch: Int, seq: Int) throws -> TrainingBatch {
        guard batch == batcher.batchSize else {
            throw TrainingError.invalidConfig("the instruction batcher makes batches of \(batcher.batchSize), the trainer asked for \(batch)")
        }
        let b = batcher.next()
        return TrainingBatch(inputs: b.inputs, targets: b.targets, shape: (b.batch, b.seq))
    }

    public func validationBatches(batch: Int, seq: Int, maxBatches: Int) throws -> [TrainingBatch] {
        validation.prefix(maxBatches).map { TrainingBatch(inputs: $0.inputs, targets: $0.targets, shape: ($0.batch, $0.seq)) }
    }

    public func saveState() throws -> Data { try batcher.saveState() }
    public func restoreState(_ data: Data) throws { try batcher.restoreState(data) }
}
