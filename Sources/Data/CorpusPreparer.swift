import Foundation
import IO
import Tokenizers

/// Turns a plain-text corpus into llm.c token shards plus a JSON manifest.
///
/// Documents (separated by lines holding only `<|endoftext|>`) are tokenized in parallel on all
/// cores. Each document is preceded by the document separator token (the tokenizer's
/// `<|endoftext|>`, id 0 for SmolLM2; the eos token if there is none), as llm.c's data scripts do,
/// so consecutive documents are always separated by it. A deterministic subset of documents is held
/// out for validation. Shards are named `<prefix>_train_000000.bin`, `<prefix>_val_000000.bin`, ...;
/// a split's tokens are divided into equal-sized shards of at most `maxTokensPerShard` tokens.
public struct CorpusPreparer {
    /// How validation documents are chosen.
    public enum ValidationSplit: String, Codable, Sendable {
        /// Evenly spaced documents throughout the corpus (representative of every source).
        case interleaved
        /// The last documents of the corpus.
        case tail
    }

    /// Preparation settings.
    public struct Options: Sendable {
        /// Folder receiving the shards and the manifest (created if needed).
        public var outputDirectory: String
        /// File name prefix of shards and manifest.
        public var prefix: String
        /// Fraction of documents held out for validation (0 disables the validation split).
        public var valFraction: Double
        public var valSplit: ValidationSplit
        /// Maximum tokens per shard file.
        public var maxTokensPerShard: Int
        /// Whether special-token text inside documents (e.g. `<|im_start|>`) becomes special ids.
        /// Off by default: pretraining text is encoded as ordinary text, like llm.c's
        /// `encode_ordinary`.
        public var allowSpecialTokens: Bool
        /// Worker threads for tokenization.
        public var threads: Int

        public init(outputDirectory: String, prefix: String = "corpus", valFraction: Double = 0.01,
                    valSplit: ValidationSplit = .interleaved, maxTokensPerShard: Int = 100_000_000,
                    allowSpecialTokens: Bool = false, threads: Int = ParallelWork.defaultThreadCount) {
            self.outputDirectory = outputDirectory
            self.prefix = prefix
            self.valFraction = valFraction
            self.valSplit = valSplit
            self.maxTokensPerShard = maxTokensPerShard
            self.allowSpecialTokens = allowSpecialTokens
            self.threads = threads
        }
    }

    public let tokenizer: BPETokenizer
    public let options: Options
    public let progress: ProgressReporter

    public init(tokenizer: BPETokenizer, options: Options, progress: ProgressReporter = .stderr) {
        self.tokenizer = tokenizer
        self.options = options
        self.progress = progress
    }

    /// Which of `count` documents go to validation: exactly `round(valFraction * count)` of them
    /// (at least one when the fraction is positive), chosen per `valSplit`.
    public static func validationMask(documents count: Int, valFraction: Double, split: ValidationSplit) -> [Bool] {
        guard valFraction > 0, count > 0 else { return Array(repeating: false, count: count) }
        let nVal = min(count, max(1, Int((valFraction * Double(count)).rounded())))
        switch split {
        case .tail:
            return (0..<count).map { $0 >= count - nVal }
        case .interleaved:
            // Document i is held out when floor((i+1)·nVal/count) steps up: nVal evenly spaced picks.
            return (0..<count).map { i in ((i + 1) * nVal) / count > (i * nVal) / count }
        }
    }

    /// Tokenizes the corpus at `corpusPath`, writes the shards and the manifest, and returns it.
    @discardableResult
    public func prepare(corpusPath: String) throws -> CorpusManifest {
        let started = Date()
        guard options.valFraction >= 0, options.valFraction < 1 else {
            throw DataError.invalidArgument("valFraction must be in [0, 1), got \(options.valFraction)")
        }
        guard options.maxTokensPerShard > 0, options.maxTokensPerShard <= TokenShardWriter.maxTokens else {
            throw DataError.invalidArgument("maxTokensPerShard must be in 1...\(TokenShardWriter.maxTokens)")
        }
        guard let separatorID = tokenizer.endOfTextID ?? tokenizer.eosID else {
            throw DataError.invalidArgument("tokenizer \(tokenizer.source) has neither <|endoftext|> nor an eos token to separate documents")
        }
        let file = try MappedFile(path: corpusPath)
        let docs = CorpusDocuments.ranges(in: file.bytes)
        guard !docs.isEmpty else { throw DataError.emptyCorpus(file: corpusPath) }
        let isVal = Self.validationMask(documents: docs.count, valFraction: options.valFraction, split: options.valSplit)
        if isVal.allSatisfy({ $0 }) {
            throw DataError.cannotSplit(file: corpusPath,
                reason: "\(docs.count) document(s) cannot give both a training and a validation split; use valFraction 0")
        }

        let tokenizeStart = Date()
        let docTokens = tokenize(docs, in: file, corpusPath: corpusPath)
        let tokenizeSeconds = Date().timeIntervalSince(tokenizeStart)
        let contentTokens = docTokens.reduce(0) { $0 + $1.count }
        guard contentTokens > 0 else { throw DataError.emptyCorpus(file: corpusPath) }

        var train: [Int32] = [], val: [Int32] = []
        for (i, tokens) in docTokens.enumerated() where !tokens.isEmpty {
            if isVal[i] { val.append(separatorID); val += tokens } else { train.append(separatorID); train += tokens }
        }
        let format = TokenShardFormat.forVocabulary(size: tokenizer.vocabularySize)
        try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        let trainShards = try writeShards(train, split: "train", format: format)
        let valShards = try writeShards(val, split: "val", format: format)

        let formatter = ISO8601DateFormatter()
        let manifest = CorpusManifest(
            corpusPath: corpusPath, corpusBytes: file.count, documents: docs.count,
            trainDocuments: zip(docTokens, isVal).filter { !$0.0.isEmpty && !$0.1 }.count,
            valDocuments: zip(docTokens, isVal).filter { !$0.0.isEmpty && $0.1 }.count,
            valFraction: options.valFraction, valSplit: options.valSplit.rawValue,
            tokenizer: .init(source: tokenizer.source, preTokenizer: tokenizer.preTokenizer.rawValue,
                             vocabularySize: tokenizer.vocabularySize, documentSeparatorID: separatorID),
            shardFormat: format.rawValue, trainTokens: train.count, valTokens: val.count,
            trainShards: trainShards, valShards: valShards,
            tokenizeSeconds: tokenizeSeconds, totalSeconds: Date().timeIntervalSince(started),
            createdAt: formatter.string(from: started))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(manifest), to: manifestPath)
        return manifest
    }

    /// Path of the manifest this preparer writes.
    public var manifestPath: String {
        (options.outputDirectory as NSString).appendingPathComponent("\(options.prefix)_manifest.json")
    }

    /// Path of shard `index` of `split` ("train" or "val").
    public func shardPath(split: String, index: Int) -> String {
        (options.outputDirectory as NSString).appendingPathComponent(String(format: "%@_%@_%06d.bin", options.prefix, split, index))
    }

    private func tokenize(_ docs: [Range<Int>], in file: MappedFile, corpusPath: String) -> [[Int32]] {
        let totalBytes = docs.reduce(0) { $0 + $1.count }
        let clock = Date()
        let lock = NSLock()
        var doneBytes = 0
        var lastReport = 0.0
        var results = [[Int32]](repeating: [], count: docs.count)
        let allowSpecial = options.allowSpecialTokens
        let progress = self.progress
        results.withUnsafeMutableBufferPointer { out in
            ParallelWork.run(count: docs.count, threads: options.threads, makeWorker: { tokenizer.makeEncoder() }) { encoder, i in
                // Decoding repairs any invalid UTF-8 (U+FFFD), so the encoder always sees valid text.
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: file.bytes[docs[i]]), as: UTF8.self)
                out[i] = encoder.encode(text, allowSpecial: allowSpecial, addBOS: false)
                lock.lock()
                doneBytes += docs[i].count
                let elapsed = Date().timeIntervalSince(clock)
                if elapsed - lastReport >= progress.interval && doneBytes < totalBytes {
                    lastReport = elapsed
                    progress.report(ProgressUpdate(phase: "tokenizing", done: doneBytes, total: totalBytes, elapsed: elapsed, finished: false))
                }
                lock.unlock()
            }
        }
        progress.report(ProgressUpdate(phase: "tokenizing", done: totalBytes, total: totalBytes,
                                       elapsed: Date().timeIntervalSince(clock), finished: true))
        return results
    }

    private func writeShards(_ tokens: [Int32], split: String, format: TokenShardFormat) throws -> [CorpusManifest.Shard] {
        let shardCount = (tokens.count + options.maxTokensPerShard - 1) / options.maxTokensPerShard
        // Remove shards of this split left over from an earlier run with more shards.
        var stale = shardCount
        while FileManager.default.fileExists(atPath: shardPath(split: split, index: stale)) {
            try? FileManager.default.removeItem(atPath: shardPath(split: split, index: stale))
            stale += 1
        }
        guard shardCount > 0 else { return [] }
        var shards: [CorpusManifest.Shard] = []
        try tokens.withUnsafeBufferPointer { all in
            for s in 0..<shardCount {
                let lo = s * tokens.count / shardCount, hi = (s + 1) * tokens.count / shardCount
                let path = shardPath(split: split, index: s)
                try TokenShardWriter.write(UnsafeBufferPointer(rebasing: all[lo..<hi]), to: path, format: format)
                shards.append(.init(file: (path as NSString).lastPathComponent, tokens: hi - lo))
            }
        }
        return shards
    }
}
