import Foundation
import Models
import NN
import Tensor
import TestSupport
import XCTest

final class LowRankFactorizerTests: XCTestCase {
    func testFullRankSVDReproducesDenseLogitsAndMergeRoundTrips() throws {
        let cfg = GPT2Config(vocabSize: 19, contextLength: 16, layers: 2, heads: 2, embeddingSize: 16)
        let dense = try GPT2Model(config: cfg, seed: 3)
        var rng = RandomGenerator(seed: 4)
        for e in dense.parameters.entries where e.shape.count == 2 { rng.fillNormal(dense.parameters[e.name].buffer, std: 0.2) }
        let tokens: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6]
        let reference = try dense.logits(tokens: tokens, batch: 1, seq: 8).array
        // full rank (fraction 1.0 = min(in, out)) reproduces the dense model
        let (full, report) = try LowRankFactorizer.factorize(dense, plan: try LowRankPlan(uniform: .fraction(1)))
        XCTAssertEqual(full.config.lowRankRanks.count, 8)
        XCTAssertTrue(report.allSatisfy { $0.relativeError < 1e-5 && abs($0.energyKept - 1) < 1e-6 })
        assertAllClose(try full.logits(tokens: tokens, batch: 1, seq: 8).array, reference, rtol: 1e-4, atol: 1e-4, "full-rank factorised logits")
        let merged = try LowRankFactorizer.merge(full)
        assertAllClose(merged.parameters.buffer.buffer.map { $0 }, dense.parameters.buffer.buffer.map { $0 }, rtol: 1e-4, atol: 1e-5, "merged weights")
        // truncated: fewer parameters, error as reported (the SVD's tail energy), merge gives B A
        let (small, smallReport) = try LowRankFactorizer.factorize(dense, plan: try LowRankPlan(parsing: "qkv=4,attn_out=e0.8,mlp_up=0.25,mlp_down=dense"))
        XCTAssertLessThan(small.config.parameterCount, cfg.parameterCount)
        for r in smallReport where r.rank != nil {
            XCTAssertEqual(r.relativeError, (1 - r.energyKept).squareRoot(), accuracy: 1e-4, r.module)
        }
        XCTAssertTrue(smallReport.filter { $0.module.hasSuffix("attn.c_proj") }.allSatisfy { $0.energyKept >= 0.8 })
        XCTAssertNil(smallReport.first { $0.module.hasSuffix("mlp.c_proj") }!.rank)
        XCTAssertThrowsError(try LowRankFactorizer.factorize(small, plan: try LowRankPlan(uniform: .absolute(2)))) {
            XCTAssertTrue("\($0)".contains("already factorised"))
        }
        let text = LowRankFactorizer.render(smallReport, config: small.configuration)
        XCTAssertTrue(text.contains("whole model"))
    }
}
