import Foundation
import Tensor
import TestSupport
import XCTest

final class BLASTests: XCTestCase {
    func testGemmEveryTransposeMatchesReference() {
        var rng = RandomGenerator(seed: 1)
        let (m, n, k) = (37, 29, 45)
        for transA in [false, true] {
            for transB in [false, true] {
                let a = Tensor.uniform([m * k], rng: &rng), b = Tensor.uniform([k * n], rng: &rng)
                let c0 = Tensor.uniform([m * n], rng: &rng)
                let c1 = c0.copy()
                BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: a.pointer, b: b.pointer, beta: 0.3, c: c0.pointer)
                BLAS.gemmReference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: a.pointer, b: b.pointer, beta: 0.3, c: c1.pointer)
                assertAllClose(c0.pointer, c1.pointer, count: m * n, rtol: 1e-4, atol: 1e-4, "gemm tA=\(transA) tB=\(transB)")
            }
        }
    }

    func testGemmWithLeadingDimensionsAndBatches() {
        var rng = RandomGenerator(seed: 2)
        let (batch, m, n, k) = (3, 5, 6, 7)
        // A matrices embedded with row stride 10 inside a larger buffer, batch stride 64.
        let a = Tensor.uniform([batch * 64], rng: &rng), b = Tensor.uniform([batch * k * n], rng: &rng)
        let c0 = Tensor(zeros: [batch * m * n]), c1 = Tensor(zeros: [batch * m * n])
        BLAS.gemmBatched(batch: batch, m: m, n: n, k: k, a: a.pointer, lda: 10, strideA: 64, b: b.pointer, strideB: k * n, c: c0.pointer, strideC: m * n)
        for i in 0..<batch {
            BLAS.gemmReference(m: m, n: n, k: k, a: a.pointer + i * 64, lda: 10, b: b.pointer + i * k * n, c: c1.pointer + i * m * n)
        }
        assertAllClose(c0.pointer, c1.pointer, count: batch * m * n, rtol: 1e-5, atol: 1e-5, "batched")
    }

    func testMatmulShapesAndErrors() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3, 2], values: [7, 8, 9, 10, 11, 12])
        XCTAssertEqual(try BLAS.matmul(a, b).array, [58, 64, 139, 154])
        XCTAssertEqual(try BLAS.matmul(a, a, transB: true).array, [14, 32, 32, 77])
        XCTAssertThrowsError(try BLAS.matmul(a, a))
    }

    /// Restarting OpenBLAS's workers with a short idle spin keeps its thread count and its results:
    /// a product large enough to run threaded matches the reference before and after.
    func testLimitIdleSpinningKeepsThreadsAndResults() {
        var rng = RandomGenerator(seed: 4)
        let m = 96, n = 80, k = 64
        let a = Tensor.normal([m, k], std: 1, rng: &rng), b = Tensor.normal([k, n], std: 1, rng: &rng)
        let reference = Tensor(zeros: [m, n]), c = Tensor(zeros: [m, n])
        BLAS.gemmReference(m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: reference.pointer)
        let threads = BLAS.threads
        let previous = ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"]
        unsetenv("OPENBLAS_THREAD_TIMEOUT")
        defer { if let previous { setenv("OPENBLAS_THREAD_TIMEOUT", previous, 1) } }
        XCTAssertTrue(BLAS.limitIdleSpinning(), "Debian's pthreads OpenBLAS exports the restart entry points")
        XCTAssertEqual(ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"], String(BLAS.idleSpinLog2Cycles))
        XCTAssertFalse(BLAS.limitIdleSpinning(), "a timeout already in the environment is left alone")
        XCTAssertEqual(BLAS.threads, threads)
        for _ in 0..<3 {
            BLAS.gemm(m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer)
            for i in 0..<(m * n) { XCTAssertEqual(c.pointer[i], reference.pointer[i], accuracy: 1e-3) }
        }
    }
}
