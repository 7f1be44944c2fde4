import Models
import XCTest

final class TokenSamplerTests: XCTestCase {
    func testGreedyTopKTopPAndDistribution() throws {
        let logits: [Float] = [0.1, 2.0, 1.0, -1.0, 1.9]
        var greedy = try TokenSampler()
        XCTAssertEqual(greedy.next(logits: logits), 1)
        var top2 = try TokenSampler(temperature: 1, topK: 2, seed: 3)
        let draws = (0..<2000).map { _ in top2.next(logits: logits) }
        XCTAssertEqual(Set(draws), [1, 4], "top-k keeps the two best")
        // p(1)/p(4) = e^{0.1} ~ 1.105
        let ratio = Double(draws.filter { $0 == 1 }.count) / Double(draws.filter { $0 == 4 }.count)
        XCTAssertEqual(ratio, 1.105, accuracy: 0.15)
        var nucleus = try TokenSampler(temperature: 1, topP: 0.3, seed: 1)
        XCTAssertEqual(Set((0..<200).map { _ in nucleus.next(logits: logits) }), [1], "the top token alone exceeds 30%")
        XCTAssertThrowsError(try TokenSampler(temperature: -1))
        XCTAssertThrowsError(try TokenSampler(topP: 0))
    }
}
