import Foundation

/// Reads the FinGPT sentiment benchmarks, either in FinGPT's instruction JSONL form
/// (`instruction`, `input`, `output`) or in each dataset's raw form:
///
/// - FPB: Financial PhraseBank text, one `sentence@label` a line (UTF-8 or Latin-1);
/// - TFNS: CSV (or JSONL) with `text` and `label` (0 bearish, 1 bullish, 2 neutral);
/// - FiQA-SA: rows with `sentence`, `sentiment_score` and optionally `format` (`post` gets the tweet
///   instruction), or the original task-1 JSON (`{"id": {"sentence": ..., "info": [{"sentiment_score": ...}]}}`,
///   one example per `info` entry; a file name containing "post" marks posts); scores below -0.1
///   are negative, from 0.1 up positive, else neutral;
/// - NWGI: rows with `news` and one of its seven `label`s, mapped to three as FinGPT does.
public enum SentimentDatasetReader {
    /// Which benchmark a file holds; `sentiment` is any FinGPT-format file (its rows' own
    /// instructions, and a `source` field when present).
    public enum Dataset: String, CaseIterable, Sendable {
        case fpb, fiqa, tfns, nwgi, sentiment
    }

    /// Reads `path` (UTF-8, falling back to Latin-1) as `dataset`.
    public static func read(path: String, dataset: Dataset) throws -> [SentimentExample] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.malformedFile(file: path, reason: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
            throw EvaluationError.malformedFile(file: path, reason: "not UTF-8 or Latin-1 text")
        }
        return try parse(text, source: path, dataset: dataset)
    }

    /// Parses `text` (named `source` in errors), detecting FinGPT JSONL versus the raw form.
    public static func parse(_ text: String, source: String, dataset: Dataset) throws -> [SentimentExample] {
        let examples: [SentimentExample]
        if isFinGPTJSONL(text) {
            examples = try parseFinGPT(text, source: source, defaultSource: dataset == .sentiment ? nil : dataset.rawValue)
        } else {
            switch dataset {
            case .sentiment:
                throw EvaluationError.malformedFile(file: source, reason: "task 'sentiment' needs FinGPT JSONL rows with instruction, input and output")
            case .fpb: examples = try parseFPB(text, source: source)
            case .tfns: examples = try parseTFNS(try DataTable.parse(text, source: source))
            case .nwgi: examples = try parseNWGI(try DataTable.parse(text, source: source))
            case .fiqa:
                if let object = fiqaOriginalJSON(text) {
                    examples = try parseFiQAOriginal(object, source: source, posts: (source as NSString).lastPathComponent.lowercased().contains("post"))
                } else {
                    examples = try parseFiQA(try DataTable.parse(text, source: source))
                }
            }
        }
        guard !examples.isEmpty else { throw EvaluationError.malformedFile(file: source, reason: "no examples") }
        return examples
    }

    /// True when the first non-blank line is a JSON object with `instruction` and `output`.
    static func isFinGPTJSONL(_ text: String) -> Bool {
        guard let line = TextLines.split(text).first(where: { !$0.text.allSatisfy(\.isWhitespace) }),
              case .object(let o)? = try? JSONValue.parse(line.text) else { return false }
        return o["instruction"] != nil && o["output"] != nil
    }

    /// FinGPT instruction rows; `output` must be one of the three label words.
    public static func parseFinGPT(_ text: String, source: String, defaultSource: String? = nil) throws -> [SentimentExample] {
        let table = try DataTable.parseJSONLines(text, source: source)
        return try table.rows.map { row in
            let output = try table.text(row, "output")
            guard let label = SentimentLabel(word: output) else {
                throw EvaluationError.malformedRow(file: source, line: row.line, reason: "output '\(output)' is not negative, neutral or positive")
            }
            let origin = row.fields["source"]?.text ?? defaultSource
            return SentimentExample(instruction: try table.text(row, "instruction"), input: try table.text(row, "input"),
                                    label: label, line: row.line, source: origin)
        }
    }

    /// Financial PhraseBank: `sentence@label` lines (the label after the last `@`).
    public static func parseFPB(_ text: String, source: String) throws -> [SentimentExample] {
        var out: [SentimentExample] = []
        for (number, line) in TextLines.split(text) where !line.allSatisfy(\.isWhitespace) {
            guard let at = line.lastIndex(of: "@") else {
                throw EvaluationError.malformedRow(file: source, line: number, reason: "expected 'sentence@label'")
            }
            let sentence = line[..<at].trimmingCharacters(in: .whitespaces)
            let word = String(line[line.index(after: at)...])
            guard let label = SentimentLabel(word: word) else {
                throw EvaluationError.malformedRow(file: source, line: number, reason: "label '\(word)' is not negative, neutral or positive")
            }
            guard !sentence.isEmpty else { throw EvaluationError.malformedRow(file: source, line: number, reason: "empty sentence") }
            out.append(SentimentExample(instruction: SentimentInstruction.news, input: sentence, label: label, line: number, source: "fpb"))
        }
        return out
    }

    /// Twitter Financial News Sentiment: `text`, `label` (0 bearish, 1 bullish, 2 neutral).
    public static func parseTFNS(_ table: DataTable) throws -> [SentimentExample] {
        try table.rows.map { row in
            guard let label = row.fields["label"]?.integer.flatMap(SentimentLabel.init(tfnsID:)) else {
                let raw = row.fields["label"]?.text ?? "(missing)"
                throw EvaluationError.malformedRow(file: table.source, line: row.line, reason: "label \(raw) is not 0 (bearish), 1 (bullish) or 2 (neutral)")
            }
            return SentimentExample(instruction: SentimentInstruction.tweet, input: try table.text(row, "text"), label: label,
                                    line: row.line, source: "tfns")
        }
    }

    /// FiQA-SA rows: `sentence`, `sentiment_score`, optional `format` (`post` = tweet instruction).
    public static func parseFiQA(_ table: DataTable) throws -> [SentimentExample] {
        try table.rows.map { row in
            let score = try table.number(row, "sentiment_score")
            let isPost = row.fields["format"]?.text?.lowercased() == "post"
            return SentimentExample(instruction: isPost ? SentimentInstruction.tweet : SentimentInstruction.news,
                                    input: try table.text(row, "sentence"), label: SentimentLabel(fiqaScore: score),
                                    line: row.line, source: "fiqa")
        }
    }

    /// The whole text as one JSON object of FiQA task-1 entries, or nil when it is not one.
    static func fiqaOriginalJSON(_ text: String) -> [String: JSONValue]? {
        guard case .object(let o)? = try? JSONValue.parse(Substring(text)), o.count > 0,
              o.values.allSatisfy({ if case .object(let e) = $0 { return e["info"] != nil } else { return false } }) else { return nil }
        return o
    }

    /// FiQA task-1 JSON: entries in id order, one example per `info` item (as in FinGPT's source
    /// table). The file has no line numbers per entry, so errors name the entry id as the line
    /// when it is numeric.
    public static func parseFiQAOriginal(_ object: [String: JSONValue], source: String, posts: Bool) throws -> [SentimentExample] {
        let ids = object.keys.sorted { (Int($0) ?? Int.max, $0) < (Int($1) ?? Int.max, $1) }
        var out: [SentimentExample] = []
        for id in ids {
            let entryLine = Int(id) ?? 0
            guard case .object(let entry)? = object[id], let sentence = entry["sentence"]?.text,
                  case .array(let infos)? = entry["info"] else {
                throw EvaluationError.malformedFile(file: source, reason: "entry '\(id)' needs 'sentence' and an 'info' list")
            }
            for info in infos {
                guard case .object(let fields) = info, let score = fields["sentiment_score"]?.number, score.isFinite else {
                    throw EvaluationError.malformedFile(file: source, reason: "entry '\(id)': an info item lacks a numeric 'sentiment_score'")
                }
                out.append(SentimentExample(instruction: posts ? SentimentInstruction.tweet : SentimentInstruction.news, input: sentence,
                                            label: SentimentLabel(fiqaScore: score), line: entryLine, source: "fiqa"))
            }
        }
        return out
    }

    /// News With GPT Instructions: `news` and a seven-level `label`.
    public static func parseNWGI(_ table: DataTable) throws -> [SentimentExample] {
        try table.rows.map { row in
            let raw = try table.text(row, "label")
            guard let label = SentimentLabel(nwgiLabel: raw) else {
                throw EvaluationError.malformedRow(file: table.source, line: row.line,
                                                   reason: "label '\(raw)' is not one of NWGI's strong/moderately/mildly negative/positive or neutral")
            }
            return SentimentExample(instruction: SentimentInstruction.news, input: try table.text(row, "news"), label: label,
                                    line: row.line, source: "nwgi")
        }
    }
}
