import Foundation
import XCTest
import IO
import Tokenizers
import TestSupport
@testable import Data

final class CorpusPreparerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try FixturePaths.makeTemporaryDirectory("corpus") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let documents = (0..<10).map { i in
        "Document \(i): the price in Q\(i % 4 + 1) rose \(i).5%.\nSecond line of the \(i)th doc, with  spaces."
    }

    func writeCorpus(_ text: String, name: String = "corpus.txt") throws -> String {
        let p = dir.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    func testDocumentSplitting() {
        func docs(_ s: String) -> [String] {
            var copy = s
            return copy.withUTF8 { buf in
                CorpusDocuments.ranges(in: UnsafeRawBufferPointer(buf)).map { String(decoding: buf[$0], as: UTF8.self) }
            }
        }
        XCTAssertEqual(docs("a\nb\n<|endoftext|>\nc\n<|endoftext|>\n"), ["a\nb", "c"])
        XCTAssertEqual(docs("a\r\n<|endoftext|>\r\nc"), ["a", "c"])
        XCTAssertEqual(docs("one <|endoftext|> line\n"), ["one <|endoftext|> line"])
        XCTAssertEqual(docs("<|endoftext|>\n  \n<|endoftext|>\nx\n\n"), ["x\n"])
        XCTAssertEqual(docs(""), [])
        XCTAssertEqual(docs("\n\n"), [])
    }

    func testValidationMaskIsExactAndDeterministic() {
        let m = CorpusPreparer.validationMask(documents: 3186, valFraction: 0.01, split: .interleaved)
        XCTAssertEqual(m.filter { $0 }.count, 32)
        let picks = m.indices.filter { m[$0] }
        XCTAssertEqual(picks.first, 99)
        XCTAssertEqual(picks.last, 3185)
        XCTAssertTrue(zip(picks, picks.dropFirst()).allSatisfy { (98...101).contains($1 - $0) }, "evenly spaced")
        let tail = CorpusPreparer.validationMask(documents: 10, valFraction: 0.2, split: .tail)
        XCTAssertEqual(tail, Array(repeating: false, count: 8) + [true, true])
        XCTAssertEqual(CorpusPreparer.validationMask(documents: 5, valFraction: 0.01, split: .interleaved).filter { $0 }.count, 1)
        XCTAssertEqual(CorpusPreparer.validationMask(documents: 5, valFraction: 0, split: .interleaved), Array(repeating: false, count: 5))
    }

    func testPreparesShardsMatchingDirectEncoding() throws {
        let tok = try TinyTokenizer.make()
        let corpus = try writeCorpus(Self.documents.joined(separator: "\n<|endoftext|>\n") + "\n<|endoftext|>\n")
        let out = dir.appendingPathComponent("out").path
        let updates = UpdateLog()
        let preparer = CorpusPreparer(tokenizer: tok,
            options: .init(outputDirectory: out, prefix: "tiny", valFraction: 0.2, valSplit: .interleaved, threads: 2),
            progress: ProgressReporter(interval: 0) { updates.append($0) })
        let manifest = try preparer.prepare(corpusPath: corpus)

        // Reference: [<|endoftext|>] + encode(doc) for each document of the split, in order.
        let mask = CorpusPreparer.validationMask(documents: 10, valFraction: 0.2, split: .interleaved)
        XCTAssertEqual(mask.indices.filter { mask[$0] }, [4, 9])
        var train: [Int32] = [], val: [Int32] = []
        for (i, d) in Self.documents.enumerated() {
            let ids = [Int32(256)] + tok.encode(d, allowSpecial: false)
            if mask[i] { val += ids } else { train += ids }
        }
        let trainShard = try TokenShard(path: preparer.shardPath(split: "train", index: 0))
        let valShard = try TokenShard(path: preparer.shardPath(split: "val", index: 0))
        XCTAssertEqual(trainShard.format, .uint16)
        XCTAssertEqual(trainShard.allTokens(), train)
        XCTAssertEqual(valShard.allTokens(), val)
        XCTAssertEqual(tok.decode(Array(valShard.allTokens().dropFirst().prefix(while: { $0 != 256 }))), Self.documents[4])

        XCTAssertEqual(manifest.documents, 10)
        XCTAssertEqual(manifest.trainDocuments, 8)
        XCTAssertEqual(manifest.valDocuments, 2)
        XCTAssertEqual(manifest.trainTokens, train.count)
        XCTAssertEqual(manifest.valTokens, val.count)
        XCTAssertEqual(manifest.trainShards, [.init(file: "tiny_train_000000.bin", tokens: train.count)])
        XCTAssertEqual(manifest.tokenizer.documentSeparatorID, 256)
        XCTAssertEqual(manifest.shardFormat, "uint16")
        let saved = try JSONDecoder().decode(CorpusManifest.self, from: Data(contentsOf: URL(fileURLWithPath: preparer.manifestPath)))
        XCTAssertEqual(saved, manifest)

        let last = try XCTUnwrap(updates.items.last)
        XCTAssertTrue(last.finished)
        XCTAssertEqual(last.done, last.total)
        XCTAssertTrue(last.line.contains("MB/s"), last.line)
    }

    func testShardSizeLimitSplitsEvenlyAndRemovesStaleShards() throws {
        let tok = try TinyTokenizer.make()
        let corpus = try writeCorpus(Self.documents.joined(separator: "\n<|endoftext|>\n"))
        let out = dir.appendingPathComponent("out").path
        let whole = CorpusPreparer(tokenizer: tok, options: .init(outputDirectory: out, prefix: "p", valFraction: 0,
                                                                      maxTokensPerShard: 50), progress: .quiet)
        let m = try whole.prepare(corpusPath: corpus)
        XCTAssertEqual(m.valShards, [])
        XCTAssertGreaterThan(m.trainShards.count, 2)
        XCTAssertTrue(m.trainShards.allSatisfy { $0.tokens <= 50 && $0.tokens >= 49 })
        let joined = try m.trainShards.flatMap { try TokenShard(path: (out as NSString).appendingPathComponent($0.file)).allTokens() }
        XCTAssertEqual(joined, Self.documents.flatMap { [256] + tok.encode($0, allowSpecial: false) })
        // A second run with bigger shards leaves no stale files behind.
        _ = try CorpusPreparer(tokenizer: tok, options: .init(outputDirectory: out, prefix: "p", valFraction: 0), progress: .quiet)
            .prepare(corpusPath: corpus)
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        XCTAssertEqual(files, ["p_manifest.json", "p_train_000000.bin"])
    }

    func testEmptyMissingAndUnsplittableCorpora() throws {
        let tok = try TinyTokenizer.make()
        let preparer = CorpusPreparer(tokenizer: tok, options: .init(outputDirectory: dir.path), progress: .quiet)
        let missing = dir.appendingPathComponent("nope.txt").path
        XCTAssertThrowsError(try preparer.prepare(corpusPath: missing)) { e in
            XCTAssertEqual(e as? IOError, .fileNotFound(path: missing))
        }
        for (name, text) in [("empty.txt", ""), ("blank.txt", "\n<|endoftext|>\n   \n<|endoftext|>\n")] {
            let p = try writeCorpus(text, name: name)
            XCTAssertThrowsError(try preparer.prepare(corpusPath: p)) { e in
                XCTAssertEqual(e as? DataError, .emptyCorpus(file: p))
                XCTAssertTrue("\(e)".contains(name))
            }
        }
        let single = try writeCorpus("just one document", name: "one.txt")
        XCTAssertThrowsError(try preparer.prepare(corpusPath: single)) { e in
            guard case DataError.cannotSplit(let file, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(file, single)
        }
    }

    /// Tokenizes the real 62 MB corpus with the SmolLM2 tokenizer and prints the time (not asserted).
    func testRealCorpusTokenization() throws {
        guard let corpus = FixturePaths.financeCorpus else { throw XCTSkip("shared corpus not found (../shared/data or FINGPT_DATA)") }
        guard let model = FixturePaths.smolLM2Model else { throw XCTSkip("SmolLM2 GGUF not found (run `make setup` or set FINGPT_MODEL)") }
        let tok = try BPETokenizer(ggufPath: model)
        let out = dir.appendingPathComponent("fin").path
        let preparer = CorpusPreparer(tokenizer: tok, options: .init(outputDirectory: out, prefix: "fin", valFraction: 0.01),
                                      progress: .stderr)
        let m = try preparer.prepare(corpusPath: corpus)
        print(String(format: "real corpus: %d documents, %d train + %d val tokens, tokenized in %.2fs (%.1f MB/s), total %.2fs",
                     m.documents, m.trainTokens, m.valTokens, m.tokenizeSeconds,
                     Double(m.corpusBytes) / 1e6 / m.tokenizeSeconds, m.totalSeconds))
        XCTAssertEqual(m.documents, 3184)   // 3,186 entries, two of them empty (waller20211117a, waller20220218a)
        XCTAssertEqual(m.valDocuments, 32)
        XCTAssertEqual(m.tokenizer.documentSeparatorID, 0)
        // The first training document decodes back to the corpus text it came from.
        let train = try TokenShard(path: preparer.shardPath(split: "train", index: 0))
        XCTAssertEqual(train[0], 0)
        let firstDoc = try MappedFile(path: corpus)
        let ranges = CorpusDocuments.ranges(in: firstDoc.bytes)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: firstDoc.bytes[ranges[0]]), as: UTF8.self)
        var ids: [Int32] = []
        var i = 1
        while i < train.count && train[i] != 0 { ids.append(train[i]); i += 1 }
        XCTAssertEqual(tok.decode(ids), text)
    }
}

/// Thread-safe collector of progress updates.
final class UpdateLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [ProgressUpdate] = []
    func append(_ u: ProgressUpdate) { lock.lock(); storage.append(u); lock.unlock() }
    var items: [ProgressUpdate] { lock.lock(); defer { lock.unlock() }; return storage }
}
