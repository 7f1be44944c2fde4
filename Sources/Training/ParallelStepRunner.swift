import Distributed
import Foundation
import Models
import NN
import Optim
import Tensor

/// One optimizer step of data- and/or pipeline-parallel training on this rank, plus the collective
/// pieces around it (weight broadcast, validation, gathering a checkpoint on rank 0).
///
/// Every rank draws the same global batches from its data source and trains on its replica's
/// rank-strided rows, so the gradient is the single-process one up to float summation order:
/// micro-batch gradients are scaled by replicas / (scored positions of the global batch) and averaged
/// over the replicas. Without pipeline stages, gradient buckets are all-reduced while backward still
/// runs (the model reports finished groups through `gradientReadyHook`). With stages, each replica
/// runs the 1F1B schedule, exchanging activations and their gradients with its neighbour stages.
final class ParallelStepRunner {
    struct Outcome {
        var lossSum: Double
        var count: Int
        var norm: Float
        /// Mean over ranks of the seconds spent waiting on messages and reductions, and computing.
        var waitSeconds: Double
        var computeSeconds: Double
    }

    let model: PipelineStageModel
    let groups: ParallelGroups
    let layout: ParallelLayout
    let ownership: StageOwnership
    let layers: Range<Int>
    private let owned: [Int]
    private let reducer: GradientBucketReducer?
    /// Reducer parameter indices per gradient group (overlap without pipeline stages).
    private var reducerIndices: [GradientGroup: [Int]] = [:]
    private var arenas: [Int: PipelineStageArena] = [:]
    private var pendingSends: [Int: [CommunicationRequest]] = [:]
    private var waitSeconds = 0.0
    private var computeSeconds = 0.0

    static let gatherTag = 30000
    static let validationTagBase = 20000

    init(model: TrainableLanguageModel, world: Communicator, layout: ParallelLayout, batch: Int) throws {
        guard let model = model as? PipelineStageModel else {
            throw TrainingError.invalidConfig("\(model.configuration.architecture) models do not support parallel training")
        }
        try layout.validate(batch: batch, blocks: model.blockCount)
        self.model = model
        self.layout = layout
        groups = try ParallelGroups(world: world, layout: layout)
        let config = model.configuration
        let blockCost = Double(config.linearModules.reduce(0) { $0 + $1.inFeatures * $1.outFeatures }) / Double(model.blockCount)
        let headCost = Double(config.vocabularySize * model.hiddenWidth)
        let ranges = try StagePartition.ranges(blocks: model.blockCount, stages: layout.pipelineStages, blockCost: blockCost, headCost: headCost)
        let ownership = StageOwnership(model: model, stageLayers: ranges)
        let groups = self.groups
        self.ownership = ownership
        layers = ranges[groups.stage]
        let owned = ownership.owned(stage: groups.stage)
        self.owned = owned
        if layout.dataParallel > 1 {
            // buckets fill in the order backward finishes the groups: head, last block, ..., embedding
            let blocks = model.blockCount
            let order = owned.sorted { ownership.groups[$0].backwardOrder(layers: blocks) < ownership.groups[$1].backwardOrder(layers: blocks) }
            reducer = try GradientBucketReducer(communicator: groups.dataParallel, gradients: model.gradients.buffer,
                                                parameterRanges: order.map { ownership.spans[$0] }, bucketBytes: layout.bucketBytes)
            var indices: [GradientGroup: [Int]] = [:]
            for (index, entry) in order.enumerated() { indices[ownership.groups[entry], default: []].append(index) }
            reducerIndices = indices
        } else {
            reducer = nil
        }
    }

    /// The AdamW segments this rank updates.
    var optimizerSegments: [AdamW.Segment] { ownership.segments(stage: groups.stage) }

    var stageDescription: String {
        "replica \(groups.replica) of \(layout.dataParallel), stage \(groups.stage) of \(layout.pipelineStages) (blocks \(layers.lowerBound)..<\(layers.upperBound))"
    }

    /// Copies rank 0's weights to every rank.
    func broadcastWeights() throws {
        try groups.world.broadcast(model.parameters.buffer.buffer, root: 0)
    }

    // MARK: step

    func step(batches: [TrainingBatch], config: TrainingConfig, stepIndex: Int, optimizer: AdamW, lr: Float) throws -> Outcome {
        waitSeconds = 0
        computeSeconds = 0
        let scored = max(1, batches.reduce(0) { $0 + $1.scoredPositions })
        let gradScale = Float(layout.dataParallel) / Float(scored)
        let pieces = layout.pipelineStages > 1 ? layout.microBatches : 1
        var micro: [(batch: TrainingBatch, seed: UInt64)] = []
        for (i, b) in batches.enumerated() {
            let parts = try b.share(replica: groups.replica, replicas: layout.dataParallel, pieces: pieces, shape: b.shape ?? (config.batch, config.seq))
            for (j, part) in parts.enumerated() {
                micro.append((part, config.seed &+ UInt64((stepIndex * config.gradAccumulation + i) * pieces + j) &* 0x2545_F491_4F6C_DD1D))
            }
        }
        model.zeroGradients()
        let local = layout.pipelineStages > 1 ? try pipelineStep(micro, gradScale: gradScale) : try dataParallelStep(micro, gradScale: gradScale)
        try synchronizeTiedWeight()
        if layout.pipelineStages > 1, let reducer {
            try waited { try reducer.markAllReady(); try reducer.finish() }
        }
        var totals: [Float] = [Float(local.lossSum), Float(local.count), Float(waitSeconds), Float(computeSeconds)]
        try groups.world.allReduce(&totals, .sum)
        let norm = try clip(maxNorm: config.gradClip)
        let g = model.gradients.buffer
        optimizer.update(params: model.parameters.buffer.pointer, grads: g.pointer, lr: lr)
        let ranks = Double(groups.world.size)
        return Outcome(lossSum: Double(totals[0]), count: Int(totals[1].rounded()), norm: norm,
                       waitSeconds: Double(totals[2]) / ranks, computeSeconds: Double(totals[3]) / ranks)
    }

    /// Forward+backward of every micro-batch; the last one's backward starts the bucket all-reduces.
    private func dataParallelStep(_ micro: [(batch: TrainingBatch, seed: UInt64)], gradScale: Float) throws -> ChunkedCrossEntropy.Result {
        var total = ChunkedCrossEntropy.Result(lossSum: 0, count: 0)
        var hookError: Error?
        for (k, m) in micro.enumerated() {
            if k == micro.count - 1, let reducer {
                let indices = reducerIndices
                model.gradientReadyHook = { group in
                    guard hookError == nil else { return }
                    do { for i in indices[group] ?? [] { try reducer.markReady(i) } } catch { hookError = error }
                }
            }
            defer { model.gradientReadyHook = nil }
            model.setStochasticSeed(m.seed)
            let shape = m.batch.shape!
            let r = try computed { try model.forwardBackward(tokens: m.batch.inputs, targets: m.batch.targets, batch: shape.batch, seq: shape.seq, gradScale: gradScale) }
            if let hookError { throw hookError }
            total.lossSum += r.lossSum
            total.count += r.count
        }
        if let reducer { try waited { try reducer.markAllReady(); try reducer.finish() } }
        return total
    }

    /// This stage's part of the 1F1B schedule over the micro-batches.
    private func pipelineStep(_ micro: [(batch: TrainingBatch, seed: UInt64)], gradScale: Float) throws -> ChunkedCrossEntropy.Result {
        let stage = groups.stage, stages = layout.pipelineStages, pipe = groups.pipeline
        let slots = PipelineSchedule.activationSlots(stage: stage, stages: stages, microBatches: micro.count)
        var total = ChunkedCrossEntropy.Result(lossSum: 0, count: 0)
        for operation in PipelineSchedule.oneForwardOneBackward(stage: stage, stages: stages, microBatches: micro.count) {
            switch operation {
            case .forward(let m):
                let slot = m % slots
                try completeSends(slot: slot)
                let shape = micro[m].batch.shape!
                let arena = try self.arena(slot: slot, batch: shape.batch, seq: shape.seq)
                if stage > 0 {
                    try waited { try pipe.receive(into: UnsafeMutableBufferPointer(start: arena.input, count: arena.hiddenCount), from: stage - 1, tag: 2 * m) }
                }
                model.setStochasticSeed(micro[m].seed)
                try computed { try model.stageForward(arena, tokens: micro[m].batch.inputs, training: true) }
                if stage < stages - 1 {
                    pendingSends[slot, default: []].append(try pipe.startSend(UnsafeBufferPointer(start: arena.output, count: arena.hiddenCount), to: stage + 1, tag: 2 * m))
                }
            case .backward(let m):
                let slot = m % slots
                guard let arena = arenas[slot] else { throw TrainingError.invalidConfig("pipeline schedule ran backward before forward") }
                model.setStochasticSeed(micro[m].seed)
                if stage == stages - 1 {
                    let r = try computed { try model.stageLoss(arena, targets: micro[m].batch.targets, gradScale: gradScale) }
                    total.lossSum += r.lossSum
                    total.count += r.count
                } else {
                    try completeSends(slot: slot)
                    try waited { try pipe.receive(into: UnsafeMutableBufferPointer(start: arena.gradient, count: arena.hiddenCount), from: stage + 1, tag: 2 * m + 1) }
                }
                try computed { try model.stageBackward(arena) }
                if stage > 0 {
                    pendingSends[slot, default: []].append(try pipe.startSend(UnsafeBufferPointer(start: arena.gradient, count: arena.hiddenCount), to: stage - 1, tag: 2 * m + 1))
                }
            }
        }
        for slot in Array(pendingSends.keys) { try completeSends(slot: slot) }
        return total
    }

    private func arena(slot: Int, batch: Int, seq: Int) throws -> PipelineStageArena {
        if let a = arenas[slot], a.batch == batch, a.seq == seq { return a }
        arenas[slot] = nil
        let a = try model.makeStageArena(batch: batch, seq: seq, layers: layers)
        arenas[slot] = a
        return a
    }

    private func completeSends(slot: Int) throws {
        guard let sends = pendingSends[slot], !sends.isEmpty else { return }
        try waited { for s in sends { try s.wait() } }
        pendingSends[slot] = nil
    }

    /// With stages, the first and last stage both hold a tied embedding/head weight: sum their gradients.
    private func synchronizeTiedWeight() throws {
        guard let tied = groups.tied, tied.size > 1, let index = ownership.tiedIndex else { return }
        let span = ownership.spans[index]
        try waited { try tied.allReduce(UnsafeMutableBufferPointer(rebasing: model.gradients.buffer.buffer[span]), .sum) }
    }

    /// Clips by the global norm: over the whole buffer without stages (as one process does), else the
    /// sum of every stage's squares.
    private func clip(maxNorm: Float) throws -> Float {
        let g = model.gradients.buffer
        if layout.pipelineStages == 1 { return GradientClipping.clip(g.pointer, count: g.count, maxNorm: maxNorm) }
        var squares = 0.0
        for i in ownership.exclusive(stage: groups.stage) {
            squares += Kernels.sumOfSquares(g.pointer + ownership.entries[i].offset, count: ownership.entries[i].count)
        }
        var total: [Float] = [Float(squares)]
        try groups.pipeline.allReduce(&total, .sum)
        let norm = Float(Double(total[0]).squareRoot())
        let coef = maxNorm / (norm + 1e-6)
        if coef < 1 {
            for i in owned { Kernels.scale(g.pointer + ownership.entries[i].offset, by: coef, count: ownership.entries[i].count) }
        }
        return norm
    }

    // MARK: validation and checkpoints

    /// Sum and count of the validation loss over all replicas' rows of `batches` (every rank gets both).
    func validationLoss(batches: [TrainingBatch], config: TrainingConfig) throws -> (sum: Double, count: Int) {
        var sum = 0.0, count = 0
        let stage = groups.stage, stages = layout.pipelineStages
        for (i, b) in batches.enumerated() {
            let shape = b.shape ?? (config.batch, config.seq)
            guard shape.batch % layout.dataParallel == 0 else {
                throw TrainingError.invalidConfig("a validation batch of \(shape.batch) sequences does not split into \(layout.dataParallel) replicas")
            }
            let mine = try b.share(replica: groups.replica, replicas: layout.dataParallel, pieces: 1, shape: shape)[0]
            let s = mine.shape!
            if stages == 1 {
                let r = try model.loss(tokens: mine.inputs, targets: mine.targets, batch: s.batch, seq: s.seq)
                sum += r.lossSum; count += r.count
                continue
            }
            let arena = try self.arena(slot: -1, batch: s.batch, seq: s.seq)
            let tag = ParallelStepRunner.validationTagBase + i % 8192
            if stage > 0 { try groups.pipeline.receive(into: UnsafeMutableBufferPointer(start: arena.input, count: arena.hiddenCount), from: stage - 1, tag: tag) }
            try model.stageForward(arena, tokens: mine.inputs, training: false)
            if stage < stages - 1 {
                try groups.pipeline.send(UnsafeBufferPointer(start: arena.output, count: arena.hiddenCount), to: stage + 1, tag: tag)
            } else {
                let r = try model.stageLoss(arena, targets: mine.targets, gradScale: nil)
                sum += r.lossSum; count += r.count
            }
        }
        var totals: [Float] = [Float(sum), Float(count)]
        try groups.world.allReduce(&totals, .sum)
        return (Double(totals[0]), Int(totals[1].rounded()))
    }

    /// Collects every stage's weights and AdamW moments on world rank 0 (replica 0's pipeline sends
    /// them to its first stage), so that rank 0 holds whole-model buffers for a checkpoint.
    func gatherOnRankZero(optimizer: AdamW) throws {
        guard layout.pipelineStages > 1, groups.replica == 0 else { return }
        let buffers = [model.parameters.buffer, optimizer.m, optimizer.v]
        if groups.stage == 0 {
            for source in 1..<layout.pipelineStages {
                let spans = ownership.exclusive(stage: source).map { ownership.spans[$0] }
                let count = spans.reduce(0) { $0 + $1.count }
                let packed = try groups.pipeline.receive(count: 3 * count, from: source, tag: ParallelStepRunner.gatherTag)
                var offset = 0
                for buffer in buffers {
                    for span in spans {
                        packed.withUnsafeBufferPointer { (buffer.pointer + span.lowerBound).update(from: $0.baseAddress! + offset, count: span.count) }
                        offset += span.count
                    }
                }
            }
        } else {
            var packed: [Float] = []
            for buffer in buffers {
                for i in ownership.exclusive(stage: groups.stage) {
                    let span = ownership.spans[i]
                    packed += UnsafeBufferPointer(start: buffer.pointer + span.lowerBound, count: span.count)
                }
            }
            try groups.pipeline.send(packed, to: 0, tag: ParallelStepRunner.gatherTag)
        }
    }

    // MARK: timing

    private func waited<T>(_ body: () throws -> T) rethrows -> T {
        let t0 = ProcessInfo.processInfo.systemUptime
        defer { waitSeconds += ProcessInfo.processInfo.systemUptime - t0 }
        return try body()
    }

    private func computed<T>(_ body: () throws -> T) rethrows -> T {
        let t0 = ProcessInfo.processInfo.systemUptime
        defer { computeSeconds += ProcessInfo.processInfo.systemUptime - t0 }
        return try body()
    }
}
