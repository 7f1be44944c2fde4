import Distributed

/// The communicators of a parallel layout, split from the world: the data-parallel group of this
/// rank's stage (the same stage of every replica), the pipeline of this rank's replica, and with
/// several stages the pair (first stage, last stage) of the replica that shares a tied embedding.
final class ParallelGroups {
    let world: Communicator
    let layout: ParallelLayout
    let replica: Int
    let stage: Int
    let dataParallel: Communicator
    let pipeline: Communicator
    /// First and last stage of this replica (nil with one stage; a group of its own on middle stages).
    let tied: Communicator?

    /// Collective over the world: every rank must call it with the same layout.
    init(world: Communicator, layout: ParallelLayout) throws {
        try layout.validate(worldSize: world.size)
        let stages = layout.pipelineStages
        self.world = world
        self.layout = layout
        replica = world.rank / stages
        stage = world.rank % stages
        dataParallel = try world.split(color: stage, key: replica)
        pipeline = try world.split(color: replica, key: stage)
        if stages > 1 {
            let endStage = stage == 0 || stage == stages - 1
            tied = try world.split(color: endStage ? replica : layout.dataParallel + world.rank, key: stage)
        } else {
            tied = nil
        }
    }

    var isFirstStage: Bool { stage == 0 }
    var isLastStage: Bool { stage == layout.pipelineStages - 1 }
}
