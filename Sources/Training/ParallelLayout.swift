import Foundation

/// How a training run is spread over the processes of an `mpirun` job: `dataParallel` replicas, each
/// a pipeline of `pipelineStages` ranks (world rank = replica x stages + stage), with each batch cut
/// into `microBatches` pieces for the pipeline schedule.
///
/// The layout is not part of the training config: checkpoints hold whole-model buffers, so a run can
/// be resumed under any other layout (or on one process) and continue as if it had not stopped.
public struct ParallelLayout: Codable, Equatable, Sendable {
    public var dataParallel: Int
    public var pipelineStages: Int
    /// Micro-batches per batch on a pipeline (1F1B schedule); ignored without pipeline stages.
    public var microBatches: Int
    /// Size of the gradient buckets whose all-reduce overlaps backward (data parallelism).
    public var bucketBytes: Int

    public init(dataParallel: Int = 1, pipelineStages: Int = 1, microBatches: Int = 1, bucketBytes: Int = 4 << 20) {
        self.dataParallel = dataParallel
        self.pipelineStages = pipelineStages
        self.microBatches = microBatches
        self.bucketBytes = bucketBytes
    }

    /// One process, no parallelism.
    public static let single = ParallelLayout()

    public var worldSize: Int { dataParallel * pipelineStages }
    public var isSingleProcess: Bool { worldSize == 1 }

    /// The layout for a world of `worldSize` ranks when the user gave `dataParallel` and/or
    /// `pipelineStages` (the missing one is worldSize divided by the other).
    public static func resolve(worldSize: Int, dataParallel: Int?, pipelineStages: Int?, microBatches: Int?, bucketMegabytes: Double?) throws -> ParallelLayout {
        let stages = pipelineStages ?? max(1, worldSize / max(1, dataParallel ?? 1))
        let replicas = dataParallel ?? max(1, worldSize / max(1, stages))
        var layout = ParallelLayout(dataParallel: replicas, pipelineStages: stages, microBatches: microBatches ?? (stages > 1 ? 2 * stages : 1))
        if let mb = bucketMegabytes { layout.bucketBytes = Int(mb * 1_048_576) }
        try layout.validate(worldSize: worldSize)
        return layout
    }

    /// Throws unless the layout fits a world of `worldSize` ranks.
    public func validate(worldSize: Int) throws {
        guard dataParallel > 0, pipelineStages > 0, microBatches > 0 else {
            throw TrainingError.invalidConfig("data-parallel size (\(dataParallel)), pipeline stages (\(pipelineStages)) and micro-batches (\(microBatches)) must be positive")
        }
        guard bucketBytes >= 4 else { throw TrainingError.invalidConfig("the gradient bucket size must be at least 4 bytes, got \(bucketBytes)") }
        guard dataParallel * pipelineStages == worldSize else {
            throw TrainingError.invalidConfig("--data-parallel \(dataParallel) x --pipeline-stages \(pipelineStages) = \(dataParallel * pipelineStages) ranks, but the job has \(worldSize) (mpirun -np)")
        }
    }

    /// Throws unless a batch of `batch` sequences splits evenly over the replicas and micro-batches,
    /// and the model has a block for every stage.
    public func validate(batch: Int, blocks: Int) throws {
        let pieces = dataParallel * (pipelineStages > 1 ? microBatches : 1)
        guard batch % pieces == 0 else {
            throw TrainingError.invalidConfig("batch \(batch) does not split into \(dataParallel) data-parallel replica(s)" +
                                              (pipelineStages > 1 ? " x \(microBatches) micro-batches" : "") + "; use a multiple of \(pieces)")
        }
        guard pipelineStages <= blocks else {
            throw TrainingError.invalidConfig("\(pipelineStages) pipeline stages for a model of \(blocks) blocks; every stage needs at least one block")
        }
    }

    /// The share of the pipeline schedule's time spent idle in theory: (stages - 1) / (micro-batches + stages - 1).
    public var theoreticalBubble: Double {
        pipelineStages <= 1 ? 0 : Double(pipelineStages - 1) / Double(microBatches + pipelineStages - 1)
    }
}
