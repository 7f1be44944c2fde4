import Data
import Distributed
import Foundation
import IO
import Models
import NN
import Tensor
import Tokenizers

/// `fingpt finetune` as a library call: instruction finetuning of a LLaMA model on FinGPT-style
/// JSONL files, either with a LoRA adapter over a frozen base kept in a chosen storage (LoRA on
/// float32, QLoRA on int8 / NF4 / Q8_0 / Q4_0 / Q4_1), or of every weight (`full`). Writes
/// checkpoint.bin (the adapter and optimizer, or the whole model), log.jsonl, loss.svg and
/// finetune.json into the output folder, and at the end the adapter in PEFT's format (adapter/)
/// and as a llama.cpp GGUF LoRA (adapter.gguf).
public struct FinetuneJob {
    /// The base model: a LLaMA GGUF file, a Hugging Face folder or a fingpt checkpoint.
    public var modelPath: String
    /// Tokenizer (GGUF or tokenizer.json) when the model file has none (checkpoints).
    public var tokenizerPath: String?
    public var data: [InstructionDataSpec]
    public var outputDirectory: String
    /// The frozen base's storage (ignored for full finetuning).
    public var format: FrozenWeightFormat = .nf4
    /// Train every weight in float32 instead of an adapter.
    public var full = false
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

    /// The frozen base in `format`: straight from GGUF storage when possible, else from float32 weights.
    static func frozenBase(model path: String, format: FrozenWeightFormat) throws -> LlamaFrozenBase {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue, !(try TrainableModelLoader.isCheckpoint(path)) {
            return try LlamaFrozenBase(gguf: try GGUFFile(path: path), format: format)
        }
        guard let dense = try TrainableModelLoader.load(path: path) as? LlamaModel else {
            throw TrainingError.invalidConfig("\(path): adapter finetuning supports LLaMA-architecture models")
        }
        if !dense.config.lowRankRanks.isEmpty {
            return try LlamaFrozenBase(model: try LowRankFactorizer.merge(dense), format: format)
        }
        return try LlamaFrozenBase(model: dense, format: format)
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
        if resume, let saved = try Checkpoint(path: checkpointPath).header.training {
            let steps = max(saved.steps, training.steps)
            training = saved
            training.steps = steps
        }
        // model
        let model: LlamaModel
        var frozenBytes = 0
        if full {
            guard let dense = try TrainableModelLoader.load(path: modelPath, recompute: training.recompute) as? LlamaModel else {
                throw TrainingError.invalidConfig("\(modelPath): finetuning supports LLaMA-architecture models")
            }
            model = dense
            log("model: \(dense.configuration.summary), every weight trains (float32 + AdamW)")
        } else {
            let base = try FinetuneJob.frozenBase(model: modelPath, format: format)
            frozenBytes = base.weightBytes
            var config = lora
            config.baseModelNameOrPath = config.baseModelNameOrPath ?? modelPath
            var rng = RandomGenerator(seed: training.seed)
            let adapter = try LoRAAdapter(config: config, base: .llama(base.config), rng: &rng)
            model = try LlamaModel(base: base, adapter: adapter, recompute: training.recompute)
            log(String(format: "model: %@; frozen base %@ (%.1f MB); LoRA r=%d alpha=%g dropout=%g%@ on %@: %d trainable parameters",
                       ModelConfiguration.llama(base.config).summary, format.cliName, Double(frozenBytes) / 1e6, config.rank, config.alpha,
                       config.dropout, config.useRSLoRA ? " (rsLoRA)" : "", config.targets.map(\.rawValue).joined(separator: ","),
                       adapter.parameterCount))
        }
        if communicator.rank == 0 { try writeSettings(training: training) }
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

    func writeSettings(training: TrainingConfig) throws {
        var settings: [String: Any] = [
            "model": modelPath, "data": data.map { "\($0.path):\($0.weight)" }, "max_sequence_length": maxSequenceLength,
            "dev_fraction": devFraction, "mode": full ? "full" : "lora", "steps": training.steps, "batch": training.batch,
            "grad_accumulation": training.gradAccumulation, "learning_rate": training.learningRate, "recompute": training.recompute,
            "seed": training.seed,
        ]
        if !full {
            settings["frozen_format"] = format.cliName
            settings["lora"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(lora))
        }
        let data = try JSONSerialization.data(withJSONObject: settings, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: (outputDirectory as NSString).appendingPathComponent("finetune.json"))
    }
}
