import Evaluation
import Foundation
import Models
import XCTest

final class MultipleChoiceTests: XCTestCase {
    func testReaderBuildsContextsForEachStyle() throws {
        let text = """
        {"context": "The sky is", "choices": [" blue", " green"], "label": 0}
        {"contexts": ["Ann helped Bo because Ann", "Ann helped Bo because Bo"], "continuation": " was kind.", "label": 0}
        {"passage": "Rates rose in May.", "question": "did rates rise", "answer": true}
        {"goal": "Open a jar", "sol1": "Twist the lid.", "sol2": "Freeze it.", "label": 0}
        {"sentence": "The cup fell off the table because _ was wobbly.", "option1": "the cup", "option2": "the table", "answer": "2"}
        {"passage": "p", "question": "q?", "label": 0}
        """
        let items = try MultipleChoiceReader.parse(text, source: "x")
        XCTAssertEqual(items.count, 6)
        XCTAssertEqual(items[0].choices.map(\.continuation), [" blue", " green"])
        XCTAssertEqual(items[1].choices.map(\.context), ["Ann helped Bo because Ann", "Ann helped Bo because Bo"])
        XCTAssertEqual(items[2].choices, [.init(context: "Rates rose in May.\nQuestion: did rates rise?\nAnswer:", continuation: " no"),
                                          .init(context: "Rates rose in May.\nQuestion: did rates rise?\nAnswer:", continuation: " yes")])
        XCTAssertEqual(items[2].label, 1)
        XCTAssertEqual(items[3].choices[0], .init(context: "Question: Open a jar\nAnswer:", continuation: " Twist the lid."))
        XCTAssertEqual(items[4].choices.map(\.context), ["The cup fell off the table because the cup", "The cup fell off the table because the table"])
        XCTAssertEqual(items[4].choices[0].continuation, " was wobbly.")
        XCTAssertEqual(items[4].label, 1)
        XCTAssertEqual(items[5].label, 0)
        XCTAssertEqual(items.map(\.line), [1, 2, 3, 4, 5, 6])
        for (bad, line) in [("{\"context\": \"a\", \"choices\": [\" b\"], \"label\": 0}", 2),
                            ("{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"label\": 2}", 2),
                            ("{\"context\": \"a\", \"choices\": [\" b\", 3], \"label\": 0}", 2),
                            ("{\"sentence\": \"no blank\", \"option1\": \"a\", \"option2\": \"b\", \"answer\": \"1\"}", 2),
                            ("{\"question\": \"only\"}", 2), ("not json", 2)] {
            XCTAssertThrowsError(try MultipleChoiceReader.parse("{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"label\": 0}\n" + bad, source: "x")) { e in
                guard case EvaluationError.malformedRow(_, let l, _)? = e as? EvaluationError else { return XCTFail("\(e)") }
                XCTAssertEqual(l, line, bad)
            }
        }
    }

    func testScoresMatchAFullForwardPass() throws {
        let tok = try TinyModels.tokenizer()
        let model = try TinyModels.llama(vocabulary: tok.vocabularySize, seed: 3)
        let items = try MultipleChoiceReader.parse("""
        {"context": "in the", "choices": [" positive", " the end", " po"], "label": 1}
        {"contexts": ["the cat", "the dog"], "continuation": " sat", "label": 0}
        """, source: "x")
        let report = try MultipleChoiceEvaluator(model: try LlamaRunner(model: model), tokenizer: tok).evaluate(items)
        var correct = 0, correctNorm = 0
        for (item, p) in zip(items, report.predictions) {
            var want: [Double] = []
            for choice in item.choices {
                let pair = try ContextContinuation(context: choice.context, continuation: choice.continuation, tokenizer: tok, allowSpecial: false)
                want.append(try TinyModels.referenceLogProbabilities(model: model, tokens: pair.context + pair.continuation, from: pair.context.count).reduce(0, +))
            }
            for (g, w) in zip(p.logLikelihoods, want) { XCTAssertEqual(g, w, accuracy: 1e-3) }
            let best = want.indices.max { want[$0] < want[$1] }!
            let perByte = zip(want, item.choices).map { $0 / Double($1.continuation.utf8.count) }
            let bestNorm = perByte.indices.max { perByte[$0] < perByte[$1] }!
            XCTAssertEqual(p.predicted, best)
            XCTAssertEqual(p.predictedNormalized, bestNorm)
            correct += best == item.label ? 1 : 0
            correctNorm += bestNorm == item.label ? 1 : 0
        }
        XCTAssertEqual(report.accuracy, Double(correct) / 2)
        XCTAssertEqual(report.accuracyNormalized, Double(correctNorm) / 2)
        XCTAssertEqual(report.predictions[0].continuationTokens, [1, 5, 1], "' positive' and ' po' are single tokens, ' the end' is 'Ġthe' + 4 bytes")
    }
}
