import Data
import Foundation

/// Training batches drawn at random from the train shards of a prepared corpus folder, and
/// validation batches walked in order through its val shards.
public final class ShardTokenSource: TokenBatchSource {
    public let manifest: CorpusManifest
    public let directory: String
    let sampler: TokenWindowSampler
    let validation: [TokenShard]

    /// Opens the corpus folder written by `fingpt prepare` (it holds one `*_manifest.json`).
    public init(directory: String, batch: Int, seq: Int, seed: UInt64, contextLength: Int) throws {
        self.directory = directory
        let (manifest, path) = try ShardTokenSource.manifest(in: directory)
        self.manifest = manifest
        func open(_ s: CorpusManifest.Shard) throws -> TokenShard {
            let shard = try TokenShard(path: (directory as NSString).appendingPathComponent(s.file))
            guard shard.count == s.tokens else {
                throw TrainingError.data("\(shard.path): holds \(shard.count) tokens but the manifest lists \(s.tokens)")
            }
            return shard
        }
        let train = try manifest.trainShards.map(open)
        guard !train.isEmpty else { throw TrainingError.data("\(path): the corpus has no training shards") }
        sampler = try TokenWindowSampler(shards: train, batchSize: batch, sequenceLength: seq, seed: seed, maxSequenceLength: contextLength)
        validation = try manifest.valShards.map(open)
    }

    /// The manifest of a prepared corpus folder (which holds exactly one `*_manifest.json`) and its path.
    public static func manifest(in directory: String) throws -> (CorpusManifest, String) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw TrainingError.data("\(directory): no such data folder (run `fingpt prepare` first)")
        }
        let names = (try fm.contentsOfDirectory(atPath: directory)).filter { $0.hasSuffix("_manifest.json") }.sorted()
        guard names.count == 1 else {
            throw TrainingError.data("\(directory): expected one *_manifest.json from `fingpt prepare`, found \(names.count)")
        }
        let path = (directory as NSString).appendingPathComponent(names[0])
        do {
            return (try JSONDecoder().decode(CorpusManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path))), path)
        } catch {
            throw TrainingError.data("\(path): not a valid corpus manifest (\(error))")
        }
    }

    /// Vocabulary size of the tokenizer that produced the shards.
    public var vocabularySize: Int { manifest.tokenizer.vocabularySize }

    public func nextTrainingBatch(batch: Int, seq: Int) throws -> TrainingBatch {
        guard batch == sampler.batchSize, seq == sampler.sequenceLength else {
            throw TrainingError.data("the sampler was opened for batch \(sampler.batchSize) x \(sampler.sequenceLength), asked for \(batch) x \(seq)")
        }
        let b = sampler.nextBatch()
        return TrainingBatch(inputs: b.inputs, targets: b.targets)
    }

    public func validationBatches(batch: Int, seq: Int, maxBatches: Int) throws -> [TrainingBatch] {
        guard !validation.isEmpty, validation.contains(where: { $0.count > batch * seq }) else { return [] }
        var loader = try SequentialTokenLoader(shards: validation.filter { $0.count > seq }, batchSize: batch, sequenceLength: seq)
        var out: [TrainingBatch] = []
        while out.count < maxBatches, let b = loader.next() { out.append(TrainingBatch(inputs: b.inputs, targets: b.targets)) }
        return out
    }

    public func saveState() throws -> Data { try JSONEncoder().encode(sampler.state) }

    public func restoreState(_ data: Data) throws {
        try sampler.restore(try JSONDecoder().decode(TokenWindowSampler.State.self, from: data))
    }
}
