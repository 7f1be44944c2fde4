import Evaluation
import Foundation
import Models
import Tensor
import XCTest

final class PerplexityDocumentsTests: XCTestCase {
    func testDocumentSplitting() {
        let text = "first doc\nline two\n<|endoftext|>\n\n<|endoftext|>\r\nsecond\r\n<|endoftext|>\nthird <|endoftext|> inline\n"
        XCTAssertEqual(Perplexity.documents(in: text), ["first doc\nline two", "second", "third <|endoftext|> inline"])
    }

    /// Per-document results are each document's own sliding-window result; totals pool the NLL.
    func testPerDocumentResultsPoolToTheTotal() throws {
        let model = try TinyModels.llama(vocabulary: 40, context: 64, seed: 9)
        let runner = try LlamaRunner(model: model)
        var rng = RandomGenerator(seed: 4)
        let docs = [30, 1, 12, 50].map { n in (0..<n).map { _ in Int32(rng.nextInt(below: 40)) } }
        let r = try Perplexity.evaluate(model: runner, documents: docs, window: 16, stride: 8)
        XCTAssertEqual(r.documents.map(\.index), [0, 2, 3])
        XCTAssertEqual(r.skippedDocuments, 1)
        XCTAssertEqual(r.tokens, 93)
        XCTAssertEqual(r.scored, 29 + 11 + 49)
        var nll = 0.0
        for d in r.documents {
            let alone = try Perplexity.evaluate(model: runner, tokens: docs[d.index], window: 16, stride: 8)
            XCTAssertEqual(d.nll, alone.nll, accuracy: 1e-6)
            XCTAssertEqual(d.windows.count, alone.windows.count)
            XCTAssertEqual(d.perplexity, Foundation.exp(alone.nll / Double(alone.scored)), accuracy: 1e-9)
            // and the document's NLL is the training model's loss over the same text when it fits one window
            if docs[d.index].count <= 16 {
                let toks = docs[d.index]
                let direct = try model.loss(tokens: Array(toks.dropLast()), targets: Array(toks.dropFirst()), batch: 1, seq: toks.count - 1)
                XCTAssertEqual(d.nll, direct.lossSum, accuracy: 1e-3)
            }
            nll += alone.nll
        }
        XCTAssertEqual(r.nll, nll, accuracy: 1e-6)
        XCTAssertEqual(r.perplexity, Foundation.exp(nll / 89), accuracy: 1e-9)
        XCTAssertThrowsError(try Perplexity.evaluate(model: runner, documents: [[1], []], window: 16, stride: 8))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as? [String: Any]
        XCTAssertEqual((json?["documents"] as? [[String: Any]])?.first?["perplexity"] as? Double ?? 0, r.documents[0].perplexity, accuracy: 1e-9)
    }
}
