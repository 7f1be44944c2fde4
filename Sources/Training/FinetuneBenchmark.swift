import Foundation
import IO
import Models
import Optim
import Quantization
import Tensor

/// Times finetuning steps (forward, backward, clipping, AdamW) of a LLaMA model on fixed random
/// token batches, every position scored, in one of four modes: full finetuning (float32 + AdamW on
/// every weight), LoRA on a float32 base, QLoRA on an int8 or NF4 base; with or without
/// recomputation. Run each mode in its own process: the peak RSS is the process's.
public enum FinetuneBenchmark {
    public enum Mode: String, CaseIterable, Sendable {
        case full, lora, qloraInt8 = "qlora-int8", qloraNF4 = "qlora-nf4"
    }

    public struct Result: Codable, Sendable {
        public var impl = "fingpt"
        public var mode: String
        public var checkpointing: Bool
        public var batch: Int
        public var seq: Int
        public var steps: Int
        public var tokensPerSecond: Double
        public var msPerStep: Double
        public var peakRSSMB: Double
        public var frozenMB: Double
        public var trainableParameters: Int
        public var activationMB: Double
        public var lossFirst: Float
        public var lossLast: Float
        public var threads: Int
        /// The frozen products' arithmetic ("f32" or "int16"; f32 for full finetuning and float32 bases).
        public var frozenCompute: String

        enum CodingKeys: String, CodingKey {
            case impl, mode, checkpointing, batch, seq, steps, threads
            case frozenCompute = "frozen_compute"
            case tokensPerSecond = "tokens_per_s", msPerStep = "ms_per_step", peakRSSMB = "peak_rss_mb", frozenMB = "frozen_mb"
            case trainableParameters = "trainable_parameters", activationMB = "activation_mb", lossFirst = "loss_first", lossLast = "loss_last"
        }
    }

    /// LoRA r=8, alpha=16, dropout 0.05 on q,k,v,o,gate,up,down (the PEFT comparison's settings).
    public static func run(model path: String, mode: Mode, recompute: Bool, batch: Int, seq: Int, steps: Int, warmup: Int,
                           lora: LoRAConfig? = nil, arithmetic: FrozenProductArithmetic = .float32) throws -> Result {
        let model: LlamaModel
        var frozenBytes = 0
        switch mode {
        case .full:
            guard let m = try TrainableModelLoader.load(path: path, recompute: recompute) as? LlamaModel else {
                throw TrainingError.invalidConfig("\(path): the finetuning benchmark needs a LLaMA model")
            }
            model = m
        case .lora, .qloraInt8, .qloraNF4:
            let format: FrozenWeightFormat = mode == .lora ? .f32 : (mode == .qloraInt8 ? .int8 : .nf4)
            let config = try lora ?? LoRAConfig(rank: 8, alpha: 16, dropout: 0.05, useRSLoRA: false,
                                                targets: [.query, .key, .value, .output, .gate, .up, .down])
            guard let m = try FinetuneJob.adapterModel(path: path, format: format, lora: config, seed: 1, recompute: recompute,
                                                                arithmetic: arithmetic) as? LlamaModel else {
                throw TrainingError.invalidConfig("\(path): the finetuning benchmark needs a LLaMA model")
            }
            model = m
            frozenBytes = FinetuneJob.frozenBytes(m)
        }
        var hyper = AdamW.Hyper()
        hyper.weightDecay = 0
        let optimizer = AdamW(parameters: model.parameters, hyper: hyper)
        var rng = RandomGenerator(seed: 2)
        let n = batch * seq, vocab = model.config.vocabSize
        let tokens = (0..<n).map { _ in Int32(rng.nextInt(below: vocab)) }
        let targets = Array(tokens.dropFirst()) + [tokens[0]]
        var times: [Double] = [], losses: [Float] = []
        let profiler = PhaseTimer()
        for i in 0..<(warmup + steps) {
            if i == warmup { model.profiler = profiler }
            let t0 = DispatchTime.now().uptimeNanoseconds
            model.zeroGradients()
            model.setStochasticSeed(UInt64(i))
            let r = try model.forwardBackward(tokens: tokens, targets: targets, batch: batch, seq: seq, gradScale: 1 / Float(n))
            let g = model.gradients.buffer
            _ = GradientClipping.clip(g.pointer, count: g.count, maxNorm: 1)
            optimizer.update(params: model.parameters.buffer.pointer, grads: g.pointer, lr: 1e-4)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            losses.append(r.mean)
            if i >= warmup { times.append(dt) }
        }
        let mean = times.reduce(0, +) / Double(max(1, times.count))
        if ProcessInfo.processInfo.environment["FINGPT_PROFILE"] != nil {
            FileHandle.standardError.write(Data(("per-step profile (ms):\n" + profiler.report(divideBy: max(1, steps)) + "\n").utf8))
        }
        return Result(mode: mode.rawValue, checkpointing: recompute, batch: batch, seq: seq, steps: steps, tokensPerSecond: Double(n) / mean,
                      msPerStep: mean * 1000, peakRSSMB: Double(ResourceUsage.peakResidentBytes()) / 1e6, frozenMB: Double(frozenBytes) / 1e6,
                      trainableParameters: model.parameters.parameterCount, activationMB: Double(model.activationBytes) / 1e6,
                      lossFirst: losses.first ?? 0, lossLast: losses.last ?? 0, threads: Parallel.threadCount,
                      frozenCompute: mode == .full || mode == .lora ? "f32" : arithmetic.rawValue)
    }
}
