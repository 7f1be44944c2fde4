import Evaluation
import XCTest

final class SentimentLabelTests: XCTestCase {
    func testAnswerNormalisation() {
        let cases: [(String, SentimentLabel)] = [
            ("positive", .positive), ("Positive", .positive), (" negative.", .negative), ("NEGATIVE", .negative),
            ("neutral", .neutral), ("", .neutral), ("bearish", .neutral), ("The sentiment is positive", .positive),
            // "positive" wins over "negative" wherever they appear (FinGPT checks positive first)
            ("negative, not positive", .positive), ("non-negative", .negative),
        ]
        for (answer, label) in cases { XCTAssertEqual(SentimentLabel.normalize(answer: answer), label, "'\(answer)'") }
    }

    func testRawLabelMappings() {
        // FiQA thresholds: < -0.1 negative, >= 0.1 positive, else neutral
        XCTAssertEqual(SentimentLabel(fiqaScore: -0.1001), .negative)
        XCTAssertEqual(SentimentLabel(fiqaScore: -0.1), .neutral)
        XCTAssertEqual(SentimentLabel(fiqaScore: 0.0999), .neutral)
        XCTAssertEqual(SentimentLabel(fiqaScore: 0.1), .positive)
        XCTAssertEqual(SentimentLabel(tfnsID: 0), .negative)
        XCTAssertEqual(SentimentLabel(tfnsID: 1), .positive)
        XCTAssertEqual(SentimentLabel(tfnsID: 2), .neutral)
        XCTAssertNil(SentimentLabel(tfnsID: 3))
        let nwgi: [(String, SentimentLabel)] = [
            ("strong negative", .negative), ("moderately negative", .negative), ("mildly negative", .neutral), ("neutral", .neutral),
            ("mildly positive", .neutral), ("moderately positive", .positive), ("Strong Positive", .positive),
        ]
        for (raw, label) in nwgi { XCTAssertEqual(SentimentLabel(nwgiLabel: raw), label, raw) }
        XCTAssertNil(SentimentLabel(nwgiLabel: "very negative"))
        XCTAssertEqual(SentimentLabel(word: " Neutral\n"), .neutral)
        XCTAssertNil(SentimentLabel(word: "bullish"))
    }
}
