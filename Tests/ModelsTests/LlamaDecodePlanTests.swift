import Foundation
import NN
import Quantization
import Tensor
import TestSupport
import XCTest
@testable import Models

/// The quantized one-token path of `LlamaRunner` (`LlamaDecodePlan`) against the general path on
/// the same quantized weights, and when it applies.
final class LlamaDecodePlanTests: XCTestCase {
    let cfg = LlamaConfig(vocabSize: 45, hiddenSize: 64, intermediateSize: 96, layers: 2, heads: 4, kvHeads: 2,
                          contextLength: 80, rmsNormEpsilon: 1e-5, ropeTheta: 10000, tieWordEmbeddings: false)

    func quantizedRunner(_ model: LlamaModel, blockType: GGMLType) throws -> LlamaRunner {
        try QuantizedLlamaRunners.make(model, blockType: blockType)
    }

    func testDecodePlanMatchesGeneralPath() throws {
        let model = try LlamaModel(config: cfg, seed: 3)
        var rng = RandomGenerator(seed: 4)
        for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: 0.3) }
        let tokens = (0..<60).map { _ in Int32(rng.nextInt(below: cfg.vocabSize)) }
        for blockType in [GGMLType.q4_1, .q8_0, .q4_0] {
            let fast = try quantizedRunner(model, blockType: blockType), general = try quantizedRunner(model, blockType: blockType)
            general.usesDecodePlan = false
            XCTAssertNotNil(fast.decodePlan, "\(blockType): integer kernels everywhere, so the plan applies")
            for runner in [fast, general] { _ = try runner.forward(Array(tokens[0..<12])) }
            // short and long contexts: attention on one thread, then split over threads
            for (i, t) in tokens[12...].enumerated() {
                let a = try fast.forward([t]), b = try general.forward([t])
                assertAllClose(a, b, rtol: 1e-5, atol: 1e-5, "\(blockType) step \(12 + i)")
            }
            XCTAssertEqual(fast.position, 60)
            // the cache written by the fast path serves the general path and back
            fast.truncate(to: 30)
            general.truncate(to: 30)
            fast.usesDecodePlan = false
            general.usesDecodePlan = true
            assertAllClose(try fast.forward([tokens[30]]), try general.forward([tokens[30]]), rtol: 1e-5, atol: 1e-5, "\(blockType) swapped")
        }
    }

    func testPlanOnlyForIntegerKernels() throws {
        let model = try LlamaModel(config: cfg, seed: 3)
        XCTAssertNil(try LlamaRunner(model: model).decodePlan, "float32 weights take the general path")
        let plan = try XCTUnwrap(try quantizedRunner(model, blockType: .q4_1).decodePlan)
        // thread shares cover the rows exactly, in multiples of 4
        for count in [0, 3, 64, 160, 45, 49152] {
            let shares = (0..<plan.threads).map { plan.share(count, worker: $0) }
            XCTAssertEqual(shares.map(\.count).reduce(0, +), count, "rows \(count)")
            for (a, b) in zip(shares, shares.dropFirst()) where !b.isEmpty { XCTAssertEqual(a.upperBound, b.lowerBound) }
            for s in shares.dropLast() where s.upperBound < count { XCTAssertEqual(s.count % 4, 0, "rows \(count)") }
        }
    }
}
