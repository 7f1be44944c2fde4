import Data
import Distributed
import Foundation
import Models
import Training

/// `fingpt finetune`: LoRA / QLoRA (or full) instruction finetuning of a LLaMA or GPT-2 model on JSONL data.
enum FinetuneCommand {
    static let usage = """
    fingpt finetune --model IN --data FILE[:REPEAT] [--data ...] --out DIR
                    [--quant nf4|int8|q8_0|q4_0|q4_1|none] [--frozen-compute int16|f32] [--full] [--tokenizer PATH]
                    [--lora-r 8] [--lora-alpha 16] [--lora-dropout 0.05] [--rslora]
                    [--targets LIST] [--template fingpt|chatml|chatml:SYSTEM|TEXT]
                    [--max-seq 256] [--dev-fraction 0.05] [--batch 4] [--grad-accum 1]
                    [--steps 200 | --epochs E] [--lr 2e-4] [--min-lr 2e-5] [--warmup 10] [--weight-decay 0] [--clip 1.0]
                    [--eval-every 50] [--eval-batches 16] [--checkpoint-every 100] [--seed 1337]
                    [--recompute] [--resume] [--quiet]
      IN: a LLaMA or GPT-2 model: a GGUF file (e.g. SmolLM2), a Hugging Face folder or a fingpt checkpoint
      (e.g. from `fingpt pretrain`; pass --tokenizer). --targets picks the adapted linears: LLaMA
      q,k,v,o,gate,up,down (default all); GPT-2 c_attn,attn.c_proj,c_fc,mlp.c_proj (default all; c_proj
      selects both output projections, as in PEFT).
      Data: FinGPT JSONL (instruction, input, output) or prompt/completion JSONL; REPEAT copies a file's
      rows per epoch (FinGPT: fpb:6 fiqa:21 tfns:2). The loss counts answer tokens only. A held-out share of
      each file gives the validation loss. --quant keeps the frozen base in that storage (none = float32
      LoRA); --frozen-compute int16 (default) multiplies with the quantized base in block-scaled 16-bit
      integers (about 1.2-1.3x faster steps on AVX2; operands rounded to 14 and 13 bits per group of 64,
      far finer than bfloat16), f32 decodes it to float32 tiles for sgemm;
      --full trains every weight instead (float32 + AdamW). --recompute keeps only block inputs and
      recomputes each block in backward. Writes checkpoint.bin, log.jsonl, loss.svg, finetune.json and at
      the end adapter/ (PEFT: adapter_config.json + adapter_model.safetensors) and adapter.gguf (llama.cpp).
      --resume continues from --out/checkpoint.bin exactly.
                    [--data-parallel N] [--pipeline-stages S] [--micro-batches M] [--bucket-mb 4]
    \(PretrainCommand.parallelUsage)
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["full", "rslora", "recompute", "resume", "quiet", "help"])
        if a.flag("help") { print(usage); return }
        let world = try Communicators.world()
        let specs = try a.strings("data").map { try InstructionDataSpec(parsing: $0) }
        guard !specs.isEmpty else { throw CLIError.usage("give at least one --data FILE[:REPEAT]\n" + usage) }
        var job = try FinetuneJob(modelPath: try a.require("model"), data: specs, outputDirectory: try a.require("out"))
        job.tokenizerPath = a.string("tokenizer")
        job.format = try FrozenWeightFormat(parsing: a.string("quant", default: "nf4"))
        job.frozenArithmetic = try FrozenComputeArgument.read(&a)
        job.full = a.flag("full")
        let targets = try a.string("targets").map(LoRATarget.parseList)
            ?? LoRATarget.all(architecture: try TrainableModelLoader.architecture(path: job.modelPath))
        job.lora = try LoRAConfig(rank: try a.int("lora-r", default: 8), alpha: try a.float("lora-alpha", default: 16),
                                  dropout: try a.float("lora-dropout", default: 0.05), useRSLoRA: a.flag("rslora"), targets: targets)
        job.template = try PromptTemplate(parsing: a.string("template", default: "fingpt"))
        job.maxSequenceLength = try a.int("max-seq", default: 256)
        job.devFraction = Double(try a.float("dev-fraction", default: 0.05))
        var t = job.training
        try TrainingArguments.read(&a, into: &t)
        job.training = t
        if let e = try a.float("epochs") { job.epochs = Double(e) }
        job.resume = a.flag("resume")
        job.showProgress = !a.flag("quiet")
        job.communicator = world
        job.layout = try PretrainCommand.parallelLayout(&a, world: world)
        try a.checkAllUsed()
        let r = try job.run(log: PretrainCommand.rankZeroLog(world))
        try Communicators.finalize(world)
        guard world.rank == 0 else { return }
        let s = r.summary
        let last = s.steps.last.map { String(format: "%.4f", $0.loss) } ?? "-"
        let val = s.validation.last.map { String(format: "%.4f", $0.loss) } ?? "-"
        print(String(format: "finetuned %d steps in %.1f s (%.0f tokens/s, peak RSS %.0f MB); final train loss %@, validation loss %@; checkpoint %@%@",
                     s.steps.count, s.seconds, s.tokensPerSecond, Double(ResourceUsage.peakResidentBytes()) / 1e6, last, val, s.checkpointPath,
                     r.adapterDirectory.map { "; adapter \($0)" } ?? ""))
    }
}
