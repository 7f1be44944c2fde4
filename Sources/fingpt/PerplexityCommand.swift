import Evaluation
import Foundation
import Inference
import Training

/// `fingpt perplexity`: sliding-window perplexity of a text file.
enum PerplexityCommand {
    static let usage = """
    fingpt perplexity --model PATH [--adapter DIR] --data FILE [--window 512] [--stride 256] [--limit-tokens N]
                      [--tokenizer PATH] [--out results.json]
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help"])
        if a.flag("help") { print(usage); return }
        let path = try a.require("model"), data = try a.require("data")
        let window = try a.int("window", default: 512), stride = try a.int("stride", default: 256)
        let limit = try a.int("limit-tokens"), out = a.string("out"), tokenizer = a.string("tokenizer"), adapter = a.string("adapter")
        try a.checkAllUsed()
        guard FileManager.default.fileExists(atPath: data) else { throw CLIError.usage("\(data): file not found") }
        let text = try String(contentsOfFile: data, encoding: .utf8)
        let loaded = try LanguageModelLoader.load(path: path, tokenizerPath: tokenizer, maxContext: window, adapterPath: adapter)
        var tokens = loaded.tokenizer.encode(text, allowSpecial: false, addBOS: false)
        if let limit { tokens = Array(tokens.prefix(limit)) }
        let progress = ProgressLine(total: tokens.count, unit: "tokens")
        let r = try Perplexity.evaluate(model: loaded.model, tokens: tokens, window: window, stride: stride) { done, _ in
            progress.update(done: done, detail: "scoring")
        }
        print(String(format: "perplexity %.4f (mean NLL %.4f over %d tokens, window %d, stride %d) [%@]",
                     r.perplexity, r.meanNLL, r.scored, window, stride, loaded.description))
        if let out {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            var obj = try JSONSerialization.jsonObject(with: enc.encode(r)) as! [String: Any]
            obj["perplexity"] = r.perplexity
            obj["model"] = path
            obj["data"] = data
            try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: out))
        }
    }
}
