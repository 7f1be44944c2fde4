import Data
import Distributed
import Foundation
import IO
import Models
import NN
import Tensor
import Tokenizers

/// `fingpt finetune` as a library call: instruction finetuning of a LLaMA or GPT-2 model on
/// FinGPT-style JSONL files, either with a LoRA adapter over a frozen base kept in a chosen storage
/// (LoRA on float32, QLoRA on int8 / NF4 / Q8_0 / Q4_0 / Q4_1), or of every weight (`full`). Writes
/// checkpoint.bin (the adapter and optimizer, or the whole model), log.jsonl, loss.svg and
/// finetune.json into the output folder, and at the end the adapter in PEFT's format (adapter/)
/// and as a llama.cpp GGUF LoRA (adapter.gguf).
public struct FinetuneJob {
    /// The base model: a LLaMA or GPT-2 GGUF file, a Hugging Face folder or a fingpt checkpoint.
    public var modelPath: String
    /// Tokenizer (GGUF or tokenizer.json) when the model file has none (checkpoints).
    public var tokenizerPath: String?
    public var data: [InstructionDataSpec]
    public var outputDirectory: String
    /// The frozen base's storage (ignored for full finetuning).
    public var format: FrozenWeightFormat = .nf4
    /// The arithmetic of the frozen block linears' products (ignored for full finetuning and f32 bases):
    /// block-scaled int16 by default (about 1.2-1.3x faster steps here, operands rounded far more finely
    /// than bfloat16; finetuned dev accuracies within two examples of float32's, bench/RESULTS.md).
    public var frozenArithmetic: FrozenProductArithmetic = .blockInt16
    /// Train every weight in float32 instead of an adapter.
    public var full = false
    /// The adapter's settings; its targets must be module kinds of the base's architecture (the
    /// default adapts every LLaMA projection; GPT-2 bases need `LoRATarget.all(architecture: "gpt2")`
    /// or a subset).
    public var lora: LoRAConfig
    public var template: PromptTemplate = .fingpt
    public var maxSequenceLength = 256
    /// Share of each file held out for validation (the same rows every run, see `InstructionSplit`).
    public var devFraction = 0.05
    public var training: TrainingConfig
    /// When set, the number of steps covers this many passes over the (weighted) training rows.
    public var epochs: Double?
    public var resume = false
    /// Stop after this step (the run resumes from its checkpoint as if never interrupted).
    public var stopAt: Int?
    public var showProgress = true
    /// All processes of the run (a single process unless launched by mpirun) and how they split the work.
    public var communicator: Communicator = SingleProcessCommunicator()
    public var layout: ParallelLayout = .single

    public init(modelPath: String, data: [InstructionDataSpec], outputDirectory: String) throws {
        self.modelPath = modelPath
        self.data = data
        self.outputDirectory = outputDirectory
        lora = try LoRAConfig(rank: 8, alpha: 16, dropout: 0.05, useRSLoRA: false, targets: [.query, .key, .value, .output, .gate, .up, .down])
        var t = TrainingConfig()
        t.batch = 4; t.seq = 256; t.learningRate = 2e-4; t.minLearningRate = 2e-5; t.warmupSteps = 10
        t.weightDecay = 0; t.beta2 = 0.999; t.evalEvery = 50; t.evalBatches = 16; t.checkpointEvery = 100
        training = t
    }

    public struct Result {
        public var summary: Trainer.Summary
        /// PEFT adapter folder and GGUF LoRA (nil for full finetuning).
        public var adapterDirectory: String?
        public var adapterGGUF: String?
        /// Bytes of the frozen base as held in memory (0 for full finetuning).
        public var frozenBytes: Int
        public var trainableParameters: Int
    }

    var checkpointPath: String { (outputDirectory as NSString).appendingPathComponent("checkpoint.bin") }

    /// The tokenizer of the model file (or `tokenizerPath`).
    static func tokenizer(model: String, override: String?) throws -> BPETokenizer {
        if let override { return override.hasSuffix(".json") ? try BPETokenizer(tokenizerJSONPath: override) : try BPETokenizer(ggufPath: override) }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDir), isDir.boolValue {
            return try BPETokenizer(tokenizerJSONPath: (model as NSString).appendingPathComponent("tokenizer.json"))
        }
        if try TrainableModelLoader.isCheckpoint(model) {
            throw TrainingError.invalidConfig("\(model) is a checkpoint without a tokenizer: pass --tokenizer (a GGUF file or tokenizer.json)")
        }
        return try BPETokenizer(ggufPath: model)
    }

    /// A LoRA adapter (freshly initialised from `seed`) over the frozen base of the LLaMA or GPT-2
    /// model at `path`, stored in `format`: straight from GGUF storage when possible, else from the
    /// float32 weights (factorised layers merged to dense first).
    static func adapterModel(path: String, format: FrozenWeightFormat, lora: LoRAConfig, seed: UInt64,
                             recompute: Bool, arithmetic: FrozenProductArithmetic = .float32) throws -> TrainableLanguageModel {
        var rng = RandomGenerator(seed: seed)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue, !(try TrainableModelLoader.isCheckpoint(path)) {
            let gguf = try GGUFFile(path: path)
            if gguf.architecture == "gpt2" {
                let base = try GPT2FrozenBase(gguf: gguf, format: format).with(arithmetic: arithmetic)
                return try GPT2Model(base: base, adapter: try LoRAAdapter(config: lora, base: .gpt2(base.config), rng: &rng), recompute: recompute)
            }
            let base = try LlamaFrozenBase(gguf: gguf, format: format).with(arithmetic: arithmetic)
            return try LlamaModel(base: base, adapter: try LoRAAdapter(config: lora, base: .llama(base.config), rng: &rng), recompute: recompute)
        }
        switch try TrainableModelLoader.load(path: path) {
        case let dense as LlamaModel:
            let base = try LlamaFrozenBase(model: dense.config.lowRankRanks.isEmpty ? dense : try LowRankFactorizer.merge(dense), format: format)
                .with(arithmetic: arithmetic)
            return try LlamaModel(base: base, adapter: try LoRAAdapter(config: lora, base: .llama(base.config), rng: &rng), recompute: recompute)
        case let dense as GPT2Model:
            let base = try GPT2FrozenBase(model: dense.config.lowRankRanks.isEmpty ? dense : try LowRankFactorizer.merge(dense), format: format)
                .with(arithmetic: arithmetic)
            return try GPT2Model(base: base, adapter: try LoRAAdapter(config: lora, base: .gpt2(base.config), rng: &rng), recompute: recompute)
        case let other:
            throw TrainingError.invalidConfig("\(path): adapter finetuning supports LLaMA and GPT-2 models, not \(other.configuration.architecture)")
        }
    }

    /// Bytes of the frozen base of an adapter-finetuning model (0 when every weight trains).
    static func frozenBytes(_ model: TrainableLanguageModel) -> Int {
        switch model {
        case let llama as LlamaModel: return llama.frozen?.weightBytes ?? 0
        case let gpt2 as GPT2Model: return gpt2.frozen?.weightBytes ?? 0
        default: return 0
        }
    }

    public func run(log: @escaping (String) -> Void) throws -> Result {
        var training = self.training
        training.seq = maxSequenceLength
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        // data
        let tokenizer = try FinetuneJob.tokenizer(model: modelPath, override: tokenizerPath)
        let encoder = try InstructionEncoder(tokenizer: tokenizer, template: template, maxSequenceLength: maxSequenceLength)
        let corpus = try InstructionCorpus.load(specs: data, encoder: encoder, devFraction: devFraction, splitSeed: training.seed)
        for f in corpus.files {
            log("data: \(f.path) x\(f.weight): \(f.trainRows) training rows, \(f.devRows) held out" + (f.truncatedRows > 0 ? ", \(f.truncatedRows) prompts truncated" : ""))
        }
        let batcher = try InstructionBatcher(mix: corpus.train, batchSize: training.batch, maxSequenceLength: maxSequenceLength,
                                             seed: training.seed &+ 1, padID: encoder.suggestedPadID)
        let dev = try InstructionBatcher.fixedBatches(corpus.dev, batchSize: training.batch, maxSequenceLength: maxSequenceLength,
                                                      padID: encoder.suggestedPadID)
        let source = InstructionBatchSource(batcher: batcher, validation: dev)
        if let epochs, !resume {
            training.steps = max(1, Int((epochs * Double(batcher.batchesPerEpoch) / Double(training.gradAccumulation)).rounded(.up)))
            log(String(format: "%.2f epochs of %d batches: %d steps", epochs, batcher.batchesPerEpoch, training.steps))
        }
        var frozenArithmetic = self.frozenArithmetic
        if resume, let saved = try savedFrozenArithmetic(), saved != frozenArithmetic {
            log("resuming with the run's frozen-product arithmetic \(saved.rawValue) (finetune.json), not \(frozenArithmetic.rawValue)")
            frozenArithmetic = saved
        }
        if resume, let saved = try Checkpoint(path: checkpointPath).header.training {
            let steps = max(saved.steps, training.steps)
            training = saved
            training.steps = steps
        }
        // model
        let model: TrainableLanguageModel
        var frozenBytes = 0
        if full {
            model = try TrainableModelLoader.load(path: modelPath, recompute: training.recompute)
            log("model: \(model.configuration.summary), every weight trains (float32 + AdamW)")
        } else {
            var config = lora
            config.baseModelNameOrPath = config.baseModelNameOrPath ?? modelPath
            model = try FinetuneJob.adapterModel(path: modelPath, format: format, lora: config, seed: training.seed,
                                                 recompute: training.recompute, arithmetic: frozenArithmetic)
            frozenBytes = FinetuneJob.frozenBytes(model)
            log(String(format: "model: %@; frozen base %@ (%.1f MB, %@ products); LoRA r=%d alpha=%g dropout=%g%@ on %@: %d trainable parameters",
                       model.configuration.summary, format.cliName, Double(frozenBytes) / 1e6, frozenArithmetic.rawValue, config.rank, config.alpha,
                       config.dropout, config.useRSLoRA ? " (rsLoRA)" : "", config.targets.map(\.rawValue).joined(separator: ","),
                       model.parameters.parameterCount))
        }
        if communicator.rank == 0 { try writeSettings(training: training, frozenArithmetic: frozenArithmetic) }
        let trainer = try Trainer(model: model, data: source, config: training, outputDirectory: outputDirectory,
                                  communicator: communicator, layout: layout)
        trainer.showProgress = showProgress
        trainer.log = log
        if resume {
            try trainer.resume()
            log("resuming from \(checkpointPath) at step \(trainer.step) of \(training.steps)")
        }
        let summary = try trainer.run(stoppingAt: stopAt)
        var result = Result(summary: summary, adapterDirectory: nil, adapterGGUF: nil, frozenBytes: frozenBytes,
                            trainableParameters: model.parameters.parameterCount)
        if let adapter = model.adapter, trainer.step == training.steps, trainer.isLoggingRank {
            let dir = (outputDirectory as NSString).appendingPathComponent("adapter")
            try LoRAPEFTFormat.save(adapter, to: dir)
            let gguf = (outputDirectory as NSString).appendingPathComponent("adapter.gguf")
            try LoRAGGUFExporter.write(adapter, to: gguf)
            result.adapterDirectory = dir
            result.adapterGGUF = gguf
            log("adapter: \(dir) (PEFT) and \(gguf) (llama.cpp --lora)")
        }
        return result
    }

    /// The frozen-product arithmetic recorded in the output folder's finetune.json: nil without that
    /// file or for full finetuning; float32 for an adapter run written before the setting existed
    /// (which is what it used).
    func savedFrozenArithmetic() throws -> FrozenProductArithmetic? {
        let path = (outputDirectory as NSString).appendingPathComponent("finetune.json")
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let settings = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TrainingError.invalidConfig("\(path): not a JSON object")
        }
        guard settings["frozen_format"] != nil else { return nil }   // full finetuning
        guard let name = settings["frozen_compute"] as? String else { return .float32 }
        guard let arithmetic = FrozenProductArithmetic(cliName: name) else {
            throw TrainingError.invalidConfig("\(path): unknown frozen_compute '\(name)' (choices: \(FrozenProductArithmetic.choices.joined(separator: ", ")))")
        }
        return arithmetic
    }

    func writeSettings(training: TrainingConfig, frozenArithmetic: FrozenProductArithmetic) throws {
        var settings: [String: Any] = [
            "model": modelPath, "data": data.map { "\($0.path):\($0.weight)" }, "max_sequence_length": maxSequenceLength,
            "dev_fraction": devFraction, "mode": full ? "full" : "lora", "steps": training.steps, "batch": training.batch,
            "grad_accumulation": training.gradAccumulation, "learning_rate": training.learningRate, "recompute": training.recompute,
            "seed": training.seed,
        ]
        if !full {
            settings["frozen_format"] = format.cliName
            settings["frozen_compute"] = frozenArithmetic.rawValue
            settings["lora"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(lora))
        }
        let data = try JSONSerialization.data(withJSONObject: settings, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: (outputDirectory as NSString).appendingPathComponent("finetune.json"))
    }
}
