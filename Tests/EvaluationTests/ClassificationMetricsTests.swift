import Evaluation
import XCTest

final class ClassificationMetricsTests: XCTestCase {
    let labels = ["negative", "neutral", "positive"]

    /// 10 examples, "negative" (2 gold) never predicted. By hand, rows gold / columns predicted:
    /// neg [0 2 0], neu [0 4 1], pos [0 1 2]. Accuracy 6/10. F1: neg 0 (P = 0/0 -> 0),
    /// neu 2*4/(5+7) = 2/3, pos 2*2/(3+3) = 2/3. Macro 4/9, weighted (0*2 + 2/3*5 + 2/3*3)/10 = 8/15.
    func testHandComputedWithAClassNeverPredicted() throws {
        let gold = [2, 2, 2, 0, 0, 1, 1, 1, 1, 1]
        let predicted = [2, 1, 2, 1, 1, 1, 1, 2, 1, 1]
        let m = try ClassificationMetrics(labels: labels, gold: gold, predicted: predicted)
        XCTAssertEqual(m.confusion, [[0, 2, 0], [0, 4, 1], [0, 1, 2]])
        XCTAssertEqual(m.accuracy, 0.6, accuracy: 1e-12)
        XCTAssertEqual(m.f1Micro, 0.6, accuracy: 1e-12)
        XCTAssertEqual(m.f1Macro, 4.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(m.f1Weighted, 8.0 / 15.0, accuracy: 1e-12)
        XCTAssertEqual(m.perClass[0].precision, 0)
        XCTAssertEqual(m.perClass[0].f1, 0)
        XCTAssertEqual(m.perClass[1].precision, 4.0 / 7.0, accuracy: 1e-12)
        XCTAssertEqual(m.perClass[1].recall, 0.8, accuracy: 1e-12)
        XCTAssertEqual(m.perClass.map(\.support), [2, 5, 3])
        XCTAssertEqual(m.perClass.map(\.predicted), [0, 7, 3])
    }

    /// A class absent from gold and predictions is left out of the averages (scikit-learn uses the
    /// labels present in either); a class only predicted counts with F1 0.
    func testAveragesRunOverPresentClasses() throws {
        // neg absent: neu F1 0, pos F1 2*1/(1+2) = 2/3 -> macro 1/3, weighted (0*1 + 2/3*1)/2 = 1/3
        let a = try ClassificationMetrics(labels: labels, gold: [2, 1], predicted: [2, 2])
        XCTAssertEqual(a.accuracy, 0.5)
        XCTAssertEqual(a.f1Macro, 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(a.f1Weighted, 1.0 / 3.0, accuracy: 1e-12)
        // neg only predicted (support 0): F1 0 but in the macro average; neu F1 2/3; pos absent
        let b = try ClassificationMetrics(labels: labels, gold: [1, 1], predicted: [0, 1])
        XCTAssertEqual(b.f1Macro, 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(b.f1Weighted, 2.0 / 3.0, accuracy: 1e-12)
        // all right: every score is 1
        let c = try ClassificationMetrics(labels: labels, gold: [0, 1, 2, 2], predicted: [0, 1, 2, 2])
        XCTAssertEqual([c.accuracy, c.f1Macro, c.f1Micro, c.f1Weighted], [1, 1, 1, 1])
    }

    func testRejectsBadInput() {
        XCTAssertThrowsError(try ClassificationMetrics(labels: labels, gold: [0, 1], predicted: [0]))
        XCTAssertThrowsError(try ClassificationMetrics(labels: labels, gold: [], predicted: []))
        XCTAssertThrowsError(try ClassificationMetrics(labels: labels, gold: [3], predicted: [0]))
    }
}
