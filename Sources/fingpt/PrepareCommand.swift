import Data
import Foundation
import Tokenizers

/// `fingpt prepare`: corpus text -> llm.c token shards with a validation split.
enum PrepareCommand {
    static let usage = """
    fingpt prepare --corpus FILE --tokenizer MODEL.gguf --out DIR [--val-fraction 0.01] [--prefix corpus]
                   [--shard-tokens 100000000] [--allow-special]
      Documents in FILE are separated by a line holding only <|endoftext|>.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["allow-special", "help"])
        if a.flag("help") { print(usage); return }
        let corpus = try a.require("corpus"), tokenizerPath = try a.require("tokenizer"), out = try a.require("out")
        var options = CorpusPreparer.Options(outputDirectory: out)
        options.prefix = a.string("prefix", default: "corpus")
        options.valFraction = Double(try a.float("val-fraction", default: 0.01))
        options.maxTokensPerShard = try a.int("shard-tokens", default: options.maxTokensPerShard)
        options.allowSpecialTokens = a.flag("allow-special")
        try a.checkAllUsed()
        let tokenizer = try BPETokenizer(ggufPath: tokenizerPath)
        let m = try CorpusPreparer(tokenizer: tokenizer, options: options).prepare(corpusPath: corpus)
        print(String(format: "prepared %d documents (%d validation): %d training and %d validation tokens in %.1f s -> %@",
                     m.documents, m.valDocuments, m.trainTokens, m.valTokens, m.totalSeconds, out))
    }
}
