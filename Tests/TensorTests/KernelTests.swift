import Foundation
import Tensor
import TestSupport
import XCTest

final class KernelTests: XCTestCase {
    var rng = RandomGenerator(seed: 7)

    func testElementwiseAndReductionsMatchReferences() {
        for count in [1, 15, 16, 17, 100, 1000] {
            let a = Tensor.uniform([count], rng: &rng), b = Tensor.uniform([count], rng: &rng)
            let o1 = Tensor(zeros: [count]), o2 = Tensor(zeros: [count])
            Kernels.add(a.pointer, b.pointer, o1.pointer, count: count)
            Kernels.addReference(a.pointer, b.pointer, o2.pointer, count: count)
            assertAllClose(o1.pointer, o2.pointer, count: count, "add")
            let y1 = b.copy(), y2 = b.copy()
            Kernels.axpy(0.3, a.pointer, y1.pointer, count: count)
            Kernels.axpyReference(0.3, a.pointer, y2.pointer, count: count)
            assertAllClose(y1.pointer, y2.pointer, count: count, "axpy")
            XCTAssertEqual(Kernels.sum(a.pointer, count: count), Kernels.sumReference(a.pointer, count: count), accuracy: 1e-4)
            XCTAssertEqual(Kernels.dot(a.pointer, b.pointer, count: count), Kernels.dotReference(a.pointer, b.pointer, count: count), accuracy: 1e-4)
            XCTAssertEqual(Kernels.max(a.pointer, count: count), Kernels.maxReference(a.pointer, count: count))
            XCTAssertEqual(Kernels.sumOfSquares(a.pointer, count: count), Kernels.sumOfSquaresReference(a.pointer, count: count), accuracy: 1e-4)
        }
    }

    func testVectorExpAccuracy() {
        var x = SIMD16<Float>()
        for start in stride(from: Float(-80), to: 80, by: 1.7) {
            for j in 0..<16 { x[j] = start + Float(j) * 0.1 }
            let e = VectorMath.exp(x)
            for j in 0..<16 {
                let ref = Foundation.exp(Double(x[j]))
                XCTAssertEqual(Double(e[j]), ref, accuracy: ref * 1e-6, "exp(\(x[j]))")
            }
        }
    }

    func testSoftmaxMatchesReference() {
        for count in [1, 7, 16, 50257] {
            let a = Tensor.uniform([count], low: -20, high: 20, rng: &rng)
            let b = a.copy()
            let lse = Kernels.softmaxInPlace(a.pointer, count: count)
            Kernels.softmaxReference(b.pointer, count: count)
            assertAllClose(a.pointer, b.pointer, count: count, rtol: 1e-5, atol: 1e-9, "softmax \(count)")
            XCTAssertEqual(Kernels.sumReference(a.pointer, count: count), 1, accuracy: 1e-5)
            XCTAssertTrue(lse.isFinite)
        }
    }

    func testGeluForwardBackwardMatchReferences() {
        let count = 1000
        let x = Tensor.uniform([count], low: -6, high: 6, rng: &rng)
        let d = Tensor.uniform([count], rng: &rng)
        let o1 = Tensor(zeros: [count]), o2 = Tensor(zeros: [count])
        Kernels.gelu(x.pointer, o1.pointer, count: count)
        Kernels.geluReference(x.pointer, o2.pointer, count: count)
        assertAllClose(o1.pointer, o2.pointer, count: count, rtol: 1e-5, atol: 1e-6, "gelu")
        let g1 = Tensor(zeros: [count]), g2 = Tensor(zeros: [count])
        Kernels.geluBackward(x.pointer, d.pointer, g1.pointer, count: count)
        Kernels.geluBackwardReference(x.pointer, d.pointer, g2.pointer, count: count)
        assertAllClose(g1.pointer, g2.pointer, count: count, rtol: 1e-4, atol: 1e-5, "gelu backward")
    }

    func testParallelChunksCoverEveryIndexOnce() {
        for count in [0, 1, 2, 3, 1000, 1001] {
            let hits = AlignedBuffer<Int32>(count: count)
            Parallel.forEachChunk(count) { r in for i in r { hits[i] += 1 } }
            XCTAssertTrue((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count)")
        }
    }
}
