import Evaluation
import Foundation
import IO
import Inference
import Models
import Training

/// `fingpt eval`: the FinGPT sentiment benchmark (FPB, FiQA-SA, TFNS, NWGI, or any FinGPT JSONL),
/// sliding-window perplexity per document, and multiple-choice log-likelihood tasks. Prints a table
/// and writes every example's result as JSON.
enum EvalCommand {
    static let usage = """
    fingpt eval --model PATH [--adapter PATH] --task fpb|fiqa|tfns|nwgi|sentiment|perplexity|choice --data FILE
                [--limit N] [--out results.json] [--tokenizer PATH] [--context 2048] [--quiet]
      sentiment and choice tasks: [--batch-size 16] examples run through the model together (one weight
        pass serves all of them; 1 runs them one after another on a single cache). LLaMA models compute
        prompts as generated tokens are computed (8-bit activations on Q4_0/Q4_1/Q8_0 weights), so the
        batch size and the order of the examples change no result. [--float-prompts]: prompts with float
        activations instead, as `generate` does; results then vary slightly with batch size and order.
      sentiment tasks: [--scoring generate|likelihood|both] [--chat-template] [--max-new-tokens 10]
        DATA: FinGPT JSONL (instruction, input, output; 'sentiment' groups rows by their 'source')
        or the raw form: FPB 'sentence@label' text, TFNS CSV (text,label 0 bearish/1 bullish/2 neutral),
        FiQA rows (sentence, sentiment_score, format) or task-1 JSON, NWGI rows (news, label).
      perplexity: [--window 512] [--stride 256]; DATA is text, documents split at '<|endoftext|>' lines;
        --limit counts documents.
      choice: DATA is JSONL of {context, choices, label}, {contexts, continuation, label}, or BoolQ / PIQA /
        WinoGrande rows; --limit counts questions.
    """

    static let tasks = ["fpb", "fiqa", "tfns", "nwgi", "sentiment", "perplexity", "choice"]

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help", "chat-template", "quiet", "float-prompts"])
        if a.flag("help") { print(usage); return }
        let path = try a.require("model"), task = try a.require("task"), data = try a.require("data")
        let adapter = a.string("adapter"), tokenizer = a.string("tokenizer"), out = a.string("out")
        let limit = try a.int("limit"), quiet = a.flag("quiet")
        guard tasks.contains(task) else { throw CLIError.usage("--task must be one of \(tasks.joined(separator: ", ")), got '\(task)'") }
        guard FileManager.default.fileExists(atPath: data) else { throw CLIError.usage("\(data): file not found") }
        if let limit, limit < 1 { throw CLIError.usage("--limit must be at least 1, got \(limit)") }
        var meta: [String: String] = ["task": task, "model": path, "data": data]
        if let adapter { meta["adapter"] = adapter }
        if let limit { meta["limit"] = String(limit) }
        switch task {
        case "perplexity":
            let window = try a.int("window", default: 512), stride = try a.int("stride", default: 256)
            try a.checkAllUsed()
            let loaded = try loadModel(path: path, adapter: adapter, tokenizer: tokenizer, maxContext: window)
            let result = try runPerplexity(loaded, data: data, limit: limit, window: window, stride: stride, quiet: quiet)
            meta["window"] = String(window); meta["stride"] = String(stride)
            try write(Output(meta: meta, model: loaded.description, perplexity: result), to: out)
        case "choice":
            let context = try a.int("context", default: 2048), batchSize = try batchSizeOption(&a), floatPrompts = a.flag("float-prompts")
            try a.checkAllUsed()
            meta["batch_size"] = String(batchSize)
            let loaded = try loadModel(path: path, adapter: adapter, tokenizer: tokenizer, maxContext: context)
            setBatchInvariant(loaded, !floatPrompts, meta: &meta)
            let report = try runChoice(loaded, data: data, limit: limit, batchSize: batchSize, quiet: quiet)
            try write(Output(meta: meta, model: loaded.description, choice: report), to: out)
        default:
            let context = try a.int("context", default: 2048)
            let scoring = a.string("scoring", default: "generate")
            let chat = a.flag("chat-template"), maxNew = try a.int("max-new-tokens", default: 10)
            let batchSize = try batchSizeOption(&a), floatPrompts = a.flag("float-prompts")
            try a.checkAllUsed()
            meta["batch_size"] = String(batchSize)
            let modes: [SentimentScoring]
            if scoring == "both" { modes = SentimentScoring.allCases } else if let m = SentimentScoring(rawValue: scoring) { modes = [m] } else {
                throw CLIError.usage("--scoring must be generate, likelihood or both, got '\(scoring)'")
            }
            guard let dataset = SentimentDatasetReader.Dataset(rawValue: task) else { throw CLIError.usage("unknown task '\(task)'") }
            var examples = try SentimentDatasetReader.read(path: data, dataset: dataset)
            if let limit { examples = Array(examples.prefix(limit)) }
            let loaded = try loadModel(path: path, adapter: adapter, tokenizer: tokenizer, maxContext: context)
            setBatchInvariant(loaded, !floatPrompts, meta: &meta)
            var reports: [SentimentReport] = []
            for mode in modes {
                let options = SentimentEvaluator.Options(scoring: mode, chatTemplate: chat ? .chatML : nil, maxNewTokens: maxNew, batchSize: batchSize)
                let evaluator = try SentimentEvaluator(model: loaded.model, tokenizer: loaded.tokenizer, options: options)
                let progress = ProgressLine(total: examples.count, unit: "examples", enabled: !quiet)
                reports.append(try evaluator.evaluate(examples) { done, _ in
                    if done % 10 == 0 || done == examples.count { progress.update(done: done, detail: mode.rawValue) }
                })
            }
            printSentimentTable(reports, model: loaded.description)
            try write(Output(meta: meta, model: loaded.description, sentiment: reports), to: out)
        }
    }

    /// The model to evaluate: `path` through `LanguageModelLoader`. The single place where a LoRA
    /// adapter will be applied once adapters exist.
    static func loadModel(path: String, adapter: String?, tokenizer: String?, maxContext: Int) throws -> LoadedLanguageModel {
        try LanguageModelLoader.load(path: path, tokenizerPath: tokenizer, maxContext: maxContext, adapterPath: adapter)
    }

    static func runPerplexity(_ loaded: LoadedLanguageModel, data: String, limit: Int?, window: Int, stride: Int,
                              quiet: Bool) throws -> Perplexity.DocumentsResult {
        let text = try String(contentsOfFile: data, encoding: .utf8)
        var docs = Perplexity.documents(in: text)
        if let limit { docs = Array(docs.prefix(limit)) }
        let tokens = loaded.tokenizer.encodeBatch(docs, allowSpecial: false)
        let progress = ProgressLine(total: docs.count, unit: "documents", enabled: !quiet)
        let r = try Perplexity.evaluate(model: loaded.model, documents: tokens, window: window, stride: stride) { done, _ in
            progress.update(done: done, detail: "scoring")
        }
        let ppl = r.documents.map(\.perplexity).sorted()
        print("task        documents  tokens     scored     mean NLL  perplexity  median doc ppl")
        print(String(format: "perplexity  %-9d  %-9d  %-9d  %-8.4f  %-10.4f  %.4f", r.documents.count, r.tokens, r.scored, r.meanNLL,
                     r.perplexity, ppl[ppl.count / 2]) + "   [\(loaded.description), window \(window), stride \(stride)]")
        return r
    }

    /// Makes a LLaMA runner compute every position as a generated token is computed
    /// (`LlamaRunner.batchInvariant`), so that neither `--batch-size` nor the order of the examples
    /// changes any result; other models are left as they are.
    static func setBatchInvariant(_ loaded: LoadedLanguageModel, _ invariant: Bool, meta: inout [String: String]) {
        guard let runner = loaded.model as? LlamaRunner else { return }
        runner.batchInvariant = invariant
        meta["batch_invariant"] = String(invariant)
    }

    /// `--batch-size` (default 16), at least 1.
    static func batchSizeOption(_ a: inout Arguments) throws -> Int {
        let n = try a.int("batch-size", default: 16)
        guard n >= 1 else { throw CLIError.usage("--batch-size must be at least 1, got \(n)") }
        return n
    }

    static func runChoice(_ loaded: LoadedLanguageModel, data: String, limit: Int?, batchSize: Int, quiet: Bool) throws -> MultipleChoiceReport {
        var items = try MultipleChoiceReader.parse(try String(contentsOfFile: data, encoding: .utf8), source: data)
        if let limit { items = Array(items.prefix(limit)) }
        let evaluator = try MultipleChoiceEvaluator(model: loaded.model, tokenizer: loaded.tokenizer, batchSize: batchSize)
        let progress = ProgressLine(total: items.count, unit: "questions", enabled: !quiet)
        let r = try evaluator.evaluate(items) { done, total in
            if done % 10 == 0 || done == total { progress.update(done: done, detail: "scoring") }
        }
        print("task    n       acc     acc_norm  seconds")
        print(String(format: "choice  %-6d  %.4f  %.4f    %.1f", r.count, r.accuracy, r.accuracyNormalized, r.seconds)
              + "   [\(loaded.description), batch \(r.batchSize)]")
        return r
    }

    static func printSentimentTable(_ reports: [SentimentReport], model: String) {
        func row(_ name: String, _ scoring: String, _ m: ClassificationMetrics, _ seconds: String) -> String {
            name.padding(toLength: 12, withPad: " ", startingAt: 0) + scoring.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(format: "%6d  %.4f  %.4f    %.4f    %.4f       ", m.count, m.accuracy, m.f1Macro, m.f1Micro, m.f1Weighted) + seconds
        }
        print("[\(model)]")
        print("dataset     scoring              n  acc     F1 macro  F1 micro  F1 weighted  time")
        for r in reports {
            let tag = r.scoring.rawValue + (r.chatTemplate ? "+chat" : "")
            for (name, m) in r.perSource.sorted(by: { $0.key < $1.key }) where r.perSource.count > 1 { print(row(name, tag, m, "")) }
            let name = r.perSource.count == 1 ? r.perSource.keys.first ?? "all" : "all"
            print(row(name, tag, r.overall, String(format: "%.1f s (%.2f ex/s, batch %d)", r.seconds, r.examplesPerSecond, r.batchSize)))
        }
        for r in reports {
            print("\nconfusion, \(r.scoring.rawValue)\(r.chatTemplate ? "+chat" : "") (rows gold, columns predicted):")
            print("            " + r.overall.labels.map { $0.padding(toLength: 10, withPad: " ", startingAt: 0) }.joined())
            for (label, counts) in zip(r.overall.labels, r.overall.confusion) {
                print(label.padding(toLength: 12, withPad: " ", startingAt: 0) + counts.map { String($0).padding(toLength: 10, withPad: " ", startingAt: 0) }.joined())
            }
        }
    }

    /// What `--out` receives: the run's settings and one task's full results.
    struct Output: Encodable {
        var meta: [String: String]
        var model: String
        var sentiment: [SentimentReport]? = nil
        var perplexity: Perplexity.DocumentsResult? = nil
        var choice: MultipleChoiceReport? = nil
    }

    static func write(_ output: Output, to path: String?) throws {
        guard let path else { return }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(try enc.encode(output), to: path)
        print("wrote \(path)")
    }
}
