import Foundation
import Quantization
import Tensor
import XCTest

/// Kernel timings, run only with FINGPT_BENCH=1 (use a release build):
///
///     FINGPT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter QuantizedMatrixBenchmarks
///
/// Prints microseconds per call and GFLOP/s-equivalent (2 * rows * columns * N / time) for
/// SmolLM2-135M's shapes: W [1536, 576] (ffn_gate/ffn_up), W [576, 1536] (ffn_down) and the
/// Q8_0 tied embedding [49152, 576] as output head.
final class QuantizedMatrixBenchmarks: XCTestCase {
    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["FINGPT_BENCH"] == "1" else { throw XCTSkip("set FINGPT_BENCH=1 to run benchmarks") }
    }

    /// Best-of-`repeats` seconds per call of `body`, calling it `inner` times per measurement.
    func time(repeats: Int = 5, inner: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<inner { body() }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(inner))
        }
        return best
    }

    func report(_ label: String, seconds: Double, flops: Double) {
        print(String(format: "%-58@ %10.1f us  %7.2f GFLOP/s", label as NSString, seconds * 1e6, flops / seconds / 1e9))
    }

    func testGEMV() throws {
        print("BLAS core: \(BLAS.coreName), threads: \(Parallel.threadCount), kernels: \(KernelISA.best)")
        for (rows, columns) in [(1536, 576), (576, 1536)] {
            var rng = RandomGenerator(seed: 1)
            let w = Tensor.normal([rows, columns], std: 0.05, rng: &rng)
            let x = Tensor.normal([columns], std: 1, rng: &rng)
            let y = Tensor(zeros: [rows])
            let flops = 2.0 * Double(rows * columns)
            let dense = time(inner: 200) { BLAS.gemm(transB: true, m: 1, n: rows, k: columns, a: x.pointer, b: w.pointer, c: y.pointer) }
            report("F32 sgemm (OpenBLAS) [\(rows), \(columns)]", seconds: dense, flops: flops)
            for type in [GGMLType.q4_1, .q4_0, .q8_0, .f16] {
                let m = try QuantizedMatrix(quantizing: w, as: type)
                for isa in KernelISA.available {
                    for mode in type.hasIntegerKernel ? [GEMVActivations.int8, .float32] : [.float32] {
                        let s = time(inner: 200) { m.gemv(x.pointer, into: y.pointer, activations: mode, isa: isa) }
                        report("\(type) [\(rows), \(columns)] \(mode) \(isa)", seconds: s, flops: flops)
                    }
                }
                let one = m.with(tuning: QuantizedMatrixTuning(gemvMinValuesPerThread: Int.max))
                let s = time(inner: 200) { one.gemv(x.pointer, into: y.pointer) }
                report("\(type) [\(rows), \(columns)] default, 1 thread", seconds: s, flops: flops)
            }
        }
        var rng = RandomGenerator(seed: 2)
        let head = try QuantizedMatrix(quantizing: Tensor.normal([49152, 576], std: 0.05, rng: &rng), as: .q8_0)
        let x = Tensor.normal([576], std: 1, rng: &rng)
        let logits = Tensor(zeros: [49152])
        let s = time(inner: 10) { head.gemv(x.pointer, into: logits.pointer) }
        report("Q8_0 output head [49152, 576] int8", seconds: s, flops: 2.0 * 49152 * 576)
    }

    func testTiledGEMMAndBackward() throws {
        let n = 512
        for (rows, columns) in [(1536, 576), (576, 1536)] {
            var rng = RandomGenerator(seed: 3)
            let w = Tensor.normal([rows, columns], std: 0.05, rng: &rng)
            let x = Tensor.normal([n, columns], std: 1, rng: &rng)
            let y = Tensor(zeros: [n, rows])
            let flops = 2.0 * Double(n * rows * columns)
            let dense = time(inner: 3) { BLAS.gemm(transB: true, m: n, n: rows, k: columns, a: x.pointer, b: w.pointer, c: y.pointer) }
            report("F32 sgemm N=\(n) [\(rows), \(columns)]", seconds: dense, flops: flops)
            let base = try QuantizedMatrix(quantizing: w, as: .q4_1)
            report("Q4_1 N=\(n) [\(rows), \(columns)] default tuning",
                   seconds: time(inner: 3) { base.forward(x.pointer, rows: n, into: y.pointer) }, flops: flops)
            for floats in [16 * 1024, 64 * 1024, 256 * 1024] {
                for parallel in [true, false] {
                    let m = base.with(tuning: QuantizedMatrixTuning(forwardTileFloats: floats, parallelTiles: parallel))
                    let s = time(inner: 3) { m.forward(x.pointer, rows: n, into: y.pointer) }
                    report("Q4_1 N=\(n) [\(rows), \(columns)] tile \(floats / columns) rows \(parallel ? "parallel" : "threaded BLAS")",
                           seconds: s, flops: flops)
                }
            }
            let dy = Tensor.normal([n, rows], std: 1, rng: &rng)
            let dx = Tensor(zeros: [n, columns])
            let denseBack = time(inner: 3) { BLAS.gemm(m: n, n: columns, k: rows, a: dy.pointer, b: w.pointer, beta: 1, c: dx.pointer) }
            report("F32 sgemm backward N=\(n) [\(rows), \(columns)]", seconds: denseBack, flops: flops)
            report("Q4_1 backward N=\(n) [\(rows), \(columns)] default tuning",
                   seconds: time(inner: 3) { base.backwardInput(dy.pointer, rows: n, accumulateInto: dx.pointer) }, flops: flops)
            for width in [32, 64, 128, 256] {
                let m = base.with(tuning: QuantizedMatrixTuning(backwardTileColumns: width))
                let s = time(inner: 3) { m.backwardInput(dy.pointer, rows: n, accumulateInto: dx.pointer) }
                report("Q4_1 backward N=\(n) [\(rows), \(columns)] column tile \(width)", seconds: s, flops: flops)
            }
        }
    }

    func testBatchCrossover() throws {
        var rng = RandomGenerator(seed: 4)
        let w = Tensor.normal([1536, 576], std: 0.05, rng: &rng)
        let base = try QuantizedMatrix(quantizing: w, as: .q4_1)
        for n in [1, 2, 4, 8, 16, 32] {
            let x = Tensor.normal([n, 576], std: 1, rng: &rng)
            let y = Tensor(zeros: [n, 1536])
            let gemv = base.with(tuning: QuantizedMatrixTuning(gemvMaxBatch: Int.max))
            let tiled = base.with(tuning: QuantizedMatrixTuning(gemvMaxBatch: 0))
            let flops = 2.0 * Double(n * 1536 * 576)
            report("Q4_1 [1536, 576] N=\(n) repeated GEMV", seconds: time(inner: 20) { gemv.forward(x.pointer, rows: n, into: y.pointer) }, flops: flops)
            report("Q4_1 [1536, 576] N=\(n) tiled sgemm", seconds: time(inner: 20) { tiled.forward(x.pointer, rows: n, into: y.pointer) }, flops: flops)
        }
    }
}
