import Foundation
import Models
import Optim
import Tensor

/// Times full training steps (forward, backward, clipping, AdamW) of a GPT-2 model on random tokens,
/// and the machine's sgemm rate, for comparison with PyTorch on the same shapes.
public enum TrainingBenchmark {
    public struct Result: Codable, Sendable {
        /// Milliseconds per step spent in each phase (zero grads, forward/backward parts, clip, adamw).
        public var impl = "fingpt"
        public var config: GPT2Config
        public var batch: Int
        public var seq: Int
        public var steps: Int
        public var tokensPerSecond: Double
        public var msPerStep: Double
        public var peakRSSMB: Double
        public var modelFlopsPerSecond: Double
        public var sgemmGflops: Double
        public var mfuOfSgemm: Double
        public var threads: Int
        public var blasCore: String
        public var recompute: Bool
        public var phases: [String: Double]

        enum CodingKeys: String, CodingKey {
            case impl, config, batch, seq, steps, threads, recompute, phases
            case tokensPerSecond = "tokens_per_s", msPerStep = "ms_per_step", peakRSSMB = "peak_rss_mb"
            case modelFlopsPerSecond = "model_flops_per_s", sgemmGflops = "sgemm_gflops", mfuOfSgemm = "fraction_of_sgemm"
            case blasCore = "blas_core"
        }
    }

    /// Measures the best sustained sgemm rate (GFLOP/s) on square-ish products like a training step's.
    public static func sgemmGflops(m: Int = 1024, n: Int = 2304, k: Int = 768, repeats: Int = 10) -> Double {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor.uniform([m * k], rng: &rng), b = Tensor.uniform([k * n], rng: &rng), c = Tensor(zeros: [m * n])
        BLAS.gemm(transB: false, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer)
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            BLAS.gemm(transB: false, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return 2 * Double(m * n * k) / best / 1e9
    }

    public static func run(config: GPT2Config, batch: Int, seq: Int, steps: Int, warmup: Int, recompute: Bool = false) throws -> Result {
        let model = try GPT2Model(config: config, seed: 1, recompute: recompute)
        if let s = ProcessInfo.processInfo.environment["FINGPT_HEAD_CHUNK"], let rows = Int(s) { model.lossChunkRows = rows }
        let optimizer = AdamW(parameters: model.parameters)
        var rng = RandomGenerator(seed: 2)
        let n = batch * seq
        let tokens = (0..<n).map { _ in Int32(rng.nextInt(below: config.vocabSize)) }
        let targets = (0..<n).map { _ in Int32(rng.nextInt(below: config.vocabSize)) }
        var times: [Double] = []
        let profiler = PhaseTimer()
        for i in 0..<(warmup + steps) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            if i == warmup { model.profiler = profiler }
            profiler.measure("zero grads") { model.zeroGradients() }
            _ = try model.forwardBackward(tokens: tokens, targets: targets, batch: batch, seq: seq, gradScale: 1 / Float(n))
            let g = model.gradients.buffer
            profiler.measure("clip") { _ = GradientClipping.clip(g.pointer, count: g.count, maxNorm: 1) }
            profiler.measure("adamw") { optimizer.update(params: model.parameters.buffer.pointer, grads: g.pointer, lr: 1e-4) }
            if i >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        }
        if ProcessInfo.processInfo.environment["FINGPT_PROFILE"] != nil {
            FileHandle.standardError.write(Data(("per-step profile (ms):\n" + profiler.report(divideBy: max(1, steps)) + "\n").utf8))
        }
        let mean = times.reduce(0, +) / Double(max(1, times.count))
        let tps = Double(n) / mean
        let flops = config.trainingFlopsPerToken(seq: seq) * tps
        let sgemm = sgemmGflops()
        return Result(config: config, batch: batch, seq: seq, steps: steps, tokensPerSecond: tps, msPerStep: mean * 1000,
                      peakRSSMB: Double(ResourceUsage.peakResidentBytes()) / 1_048_576, modelFlopsPerSecond: flops,
                      sgemmGflops: sgemm, mfuOfSgemm: flops / (sgemm * 1e9), threads: Parallel.threadCount,
                      blasCore: BLAS.coreName, recompute: recompute,
                      phases: profiler.seconds.mapValues { 1000 * $0 / Double(max(1, steps)) })
    }
}
