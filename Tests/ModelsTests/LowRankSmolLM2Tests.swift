import Foundation
import IO
import NN
import Tensor
import TestSupport
import XCTest

/// Truncated SVD of a real pretrained weight: SmolLM2-135M's first MLP up-projection [1536, 576].
final class LowRankSmolLM2Tests: XCTestCase {
    func testTruncatedSVDOfARealWeightMatchesTailEnergy() throws {
        guard let path = FixturePaths.smolLM2Model else { throw XCTSkip("SmolLM2 GGUF not found; run `make setup` or set FINGPT_MODEL") }
        let w = try GGUFFile(path: path).tensor("blk.0.ffn_up.weight")
        XCTAssertEqual(w.shape, [1536, 576])
        let (m, n) = (w.shape[0], w.shape[1])

        let start = Date()
        let svd = try TruncatedSVD.decompose(w.pointer, rows: m, columns: n)
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "SVD of blk.0.ffn_up.weight [%d, %d]: %.3f s", m, n, seconds))

        var norm2 = 0.0
        for i in 0..<(m * n) { norm2 += Double(w[i]) * Double(w[i]) }
        let energies = svd.s.map { Double($0) * Double($0) }
        XCTAssertEqual(energies.reduce(0, +) / norm2, 1, accuracy: 1e-5, "sum of s^2 = ||W||_F^2")
        XCTAssertEqual(svd.s, svd.s.sorted(by: >))

        for r in [64, 128, 288] {
            let f = try TruncatedSVD.factors(u: svd.u, s: svd.s, vt: svd.vt, rank: r, original: w.pointer, layer: "blk.0.ffn_up")
            let tail = energies[r...].reduce(0, +)
            let expected = (tail / norm2).squareRoot()
            print(String(format: "  rank %3d: energy kept %.4f, relative error %.4f (tail energy predicts %.4f), parameters %.1f%% of dense",
                         r, f.energyKept, f.relativeError, expected,
                         100 * Double(LowRankLinear.parameterCount(inFeatures: n, outFeatures: m, rank: r, bias: false)) / Double(m * n)))
            XCTAssertEqual(f.relativeError, expected, accuracy: 1e-4, "rank \(r)")
            XCTAssertEqual(f.energyKept, 1 - tail / norm2, accuracy: 1e-5, "rank \(r)")
        }

        // an energy threshold picks the smallest rank that reaches it
        let r90 = try XCTUnwrap(RankSpec.energy(0.9).resolve(in: n, out: m, singularValues: svd.s, layer: "blk.0.ffn_up"))
        XCTAssertGreaterThanOrEqual(TruncatedSVD.energyKept(singularValues: svd.s, rank: r90), 0.9)
        XCTAssertLessThan(TruncatedSVD.energyKept(singularValues: svd.s, rank: r90 - 1), 0.9)
        print("  energy 0.9 needs rank \(r90) of \(min(m, n))")
    }
}
