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

final class TextGenerationTests: XCTestCase {
    /// A model whose next-token logits favour (last token + 1) mod V, to check the loop's plumbing.
    final class CountingModel: CausalLanguageModel {
        let vocabularySize = 10, maxContext = 12
        var position = 0
        var last: Int32 = 0
        func reset() { position = 0 }
        func forward(_ tokens: [Int32], allLogits: Bool) throws -> [Float] {
            position += tokens.count
            last = tokens.last!
            var l = [Float](repeating: 0, count: 10)
            l[Int(last + 1) % 10] = 5
            l[Int(last + 2) % 10] = 4.9
            return l
        }
    }

    func testGreedyStopsAtStopTokenAndContextEnd() throws {
        var o = GenerationOptions()
        o.stopTokens = [6]
        var out: [Int32] = []
        let s = try TextGeneration.generate(model: CountingModel(), prompt: [1, 2], options: o) { out.append($0); return true }
        XCTAssertEqual(out, [3, 4, 5], "stops before the stop token")
        XCTAssertEqual(s.promptTokens, 2)
        o.stopTokens = []
        out = []
        try TextGeneration.generate(model: CountingModel(), prompt: [0, 1, 2, 3, 4], options: o) { out.append($0); return true }
        XCTAssertEqual(out.count, 7, "fills the 12-position context and stops")
        // a strong repetition penalty turns the favourite (already seen) token into the runner-up
        o.repetitionPenalty = 2
        out = []
        o.maxNewTokens = 1
        try TextGeneration.generate(model: CountingModel(), prompt: [3, 2], options: o) { out.append($0); return true }
        XCTAssertEqual(out, [4], "3 was seen: 5/2 < 4.9")
    }

    func testChatMLRendering() {
        let text = ChatTemplate.chatML.render([.init(role: "system", content: "Be brief."), .init(role: "user", content: "Hi")])
        XCTAssertEqual(text, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }
}
