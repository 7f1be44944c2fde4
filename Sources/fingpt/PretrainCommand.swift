import Distributed
import Foundation
import NN
import Training

/// `fingpt pretrain`: trains a GPT-2 or LLaMA model from scratch, or continues a pretrained one
/// (optionally factorised by SVD first), or resumes a run, on prepared shards.
enum PretrainCommand {
    static let usage = """
    fingpt pretrain --data DIR --out DIR [--preset mini | --config config.json] [--context N]
                    [--steps 200 | --minutes M] [--batch 8] [--seq 128] [--grad-accum 1]
                    [--lr 6e-4] [--min-lr 6e-5] [--warmup 20] [--weight-decay 0.1] [--clip 1.0]
                    [--eval-every 50] [--eval-batches 8] [--checkpoint-every 100] [--seed 1337]
                    [--low-rank PLAN] [--init MODEL] [--recompute] [--resume] [--quiet]
                    [--data-parallel N] [--pipeline-stages S] [--micro-batches M] [--bucket-mb 4]
      Presets: GPT-2 gpt2 (124M), small (6x384), mini (4x256), tiny (2x64); LLaMA smollm2-135m,
      llama-small (6x384), llama-mini (4x256). --config takes a config.json (GPT-2 or LLaMA keys).
      Writes checkpoint.bin, log.jsonl, loss.svg and config.json into --out. --resume continues from
      --out/checkpoint.bin exactly.
      --low-rank factorises every block linear into two narrow layers (FinGPT-HPC), e.g. "0.25",
      "128" or "qkv=0.25,attn_out=0.25,mlp_up=96,mlp_down=96".
      --init starts from a model's weights with a new optimizer: a checkpoint (e.g. one factorised by
      `fingpt lowrank`), a LLaMA GGUF file or a Hugging Face folder; with --low-rank the model is
      first factorised by truncated SVD (energy thresholds allowed, e.g. --low-rank e0.9).
    \(parallelUsage)
    """

    static let parallelUsage = """
      Under mpirun (e.g. `mpirun -np 4 fingpt pretrain --data-parallel 2 --pipeline-stages 2 ...`) the ranks
      train one model: --data-parallel replicas each take a disjoint share of every batch (gradients are
      all-reduced in --bucket-mb buckets while backward runs), --pipeline-stages split the blocks into
      contiguous stages running --micro-batches micro-batches per batch (1F1B; default 2 x stages).
      data-parallel x pipeline-stages must equal the number of ranks; the batch must divide by
      data-parallel x micro-batches. Rank 0 writes logs and checkpoints, which resume under any layout.
    """

    /// The layout from --data-parallel, --pipeline-stages, --micro-batches and --bucket-mb for `world`.
    static func parallelLayout(_ a: inout Arguments, world: Communicator) throws -> ParallelLayout {
        let dataParallel = try a.int("data-parallel"), stages = try a.int("pipeline-stages")
        let micro = try a.int("micro-batches"), bucket = try a.float("bucket-mb")
        if world.size == 1 && (dataParallel ?? 1) * (stages ?? 1) > 1 {
            throw CLIError.usage("--data-parallel and --pipeline-stages need several processes: run under mpirun -np \((dataParallel ?? 1) * (stages ?? 1))")
        }
        return try ParallelLayout.resolve(worldSize: world.size, dataParallel: dataParallel, pipelineStages: stages, microBatches: micro,
                                          bucketMegabytes: bucket.map(Double.init))
    }

    /// A log that prints on rank 0 only (every rank runs the same job).
    static func rankZeroLog(_ world: Communicator) -> (String) -> Void {
        let rank = world.rank
        return { line in if rank == 0 { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
    }

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["recompute", "resume", "quiet", "help"])
        if a.flag("help") { print(usage); return }
        let world = try Communicators.world()
        var job = PretrainJob(dataDirectory: try a.require("data"), outputDirectory: try a.require("out"))
        if let c = a.string("config") { job.model = c } else { job.model = a.string("preset", default: "mini") }
        _ = a.string("tokenizer") // accepted for symmetry with `sample`; the shards already carry token ids
        job.contextLength = try a.int("context")
        var t = TrainingConfig()
        try TrainingArguments.read(&a, into: &t)
        t.seq = try a.int("seq", default: t.seq)
        job.training = t
        job.resume = a.flag("resume")
        if let plan = a.string("low-rank") { job.lowRank = try LowRankPlan(parsing: plan) }
        job.initFrom = a.string("init")
        if let m = try a.float("minutes") { job.minutes = Double(m) }
        job.showProgress = !a.flag("quiet")
        job.communicator = world
        job.layout = try parallelLayout(&a, world: world)
        try a.checkAllUsed()
        let summary = try job.run(log: rankZeroLog(world))
        try Communicators.finalize(world)
        guard world.rank == 0 else { return }
        let last = summary.steps.last.map { String(format: "%.4f", $0.loss) } ?? "-"
        let val = summary.validation.last.map { String(format: "%.4f", $0.loss) } ?? "-"
        print(String(format: "trained %d steps in %.1f s (%.0f tokens/s); final train loss %@, validation loss %@; checkpoint %@",
                     summary.steps.count, summary.seconds, summary.tokensPerSecond, last, val, summary.checkpointPath))
    }
}
