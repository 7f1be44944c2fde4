import Foundation

/// Reads multiple-choice JSONL tasks into `MultipleChoiceItem`s. Each line is one of:
///
/// - generic: `{"context": str, "choices": [str, ...], "label": int}` (each choice continues the
///   context) or `{"contexts": [str, ...], "continuation": str, "label": int}`;
/// - BoolQ: `{"passage", "question", "answer": bool}` (or `"label": 0/1`), scored as
///   `{passage}\nQuestion: {question}?\nAnswer:` + ` no` / ` yes`;
/// - PIQA: `{"goal", "sol1", "sol2", "label": 0/1}`, scored as `Question: {goal}\nAnswer:` + ` {sol}`;
/// - WinoGrande: `{"sentence" with one "_", "option1", "option2", "answer": "1"/"2"}`: each option
///   fills the blank in the context and the rest of the sentence is the shared continuation.
public enum MultipleChoiceReader {
    public static func parse(_ text: String, source: String) throws -> [MultipleChoiceItem] {
        let table = try DataTable.parseJSONLines(text, source: source)
        let items = try table.rows.map { try item(table, $0) }
        guard !items.isEmpty else { throw EvaluationError.malformedFile(file: source, reason: "no questions") }
        return items
    }

    static func item(_ table: DataTable, _ row: DataTable.Row) throws -> MultipleChoiceItem {
        let f = row.fields
        let fail = { (reason: String) in EvaluationError.malformedRow(file: table.source, line: row.line, reason: reason) }
        let item: MultipleChoiceItem
        if f["choices"] != nil {
            let context = try table.text(row, "context")
            item = MultipleChoiceItem(choices: try strings(f["choices"], "choices", fail).map { .init(context: context, continuation: $0) },
                                      label: try integer(f["label"], "label", fail), line: row.line)
        } else if f["contexts"] != nil {
            let continuation = try table.text(row, "continuation")
            item = MultipleChoiceItem(choices: try strings(f["contexts"], "contexts", fail).map { .init(context: $0, continuation: continuation) },
                                      label: try integer(f["label"], "label", fail), line: row.line)
        } else if f["passage"] != nil, f["question"] != nil {
            var question = try table.text(row, "question")
            if !question.hasSuffix("?") { question += "?" }
            let context = "\(try table.text(row, "passage"))\nQuestion: \(question)\nAnswer:"
            let label: Int
            if case .bool(let b)? = f["answer"] { label = b ? 1 : 0 } else { label = try integer(f["label"], "answer or label", fail) }
            item = MultipleChoiceItem(choices: [.init(context: context, continuation: " no"), .init(context: context, continuation: " yes")],
                                      label: label, line: row.line)
        } else if f["goal"] != nil {
            let context = "Question: \(try table.text(row, "goal"))\nAnswer:"
            item = MultipleChoiceItem(choices: [.init(context: context, continuation: " " + (try table.text(row, "sol1"))),
                                                .init(context: context, continuation: " " + (try table.text(row, "sol2")))],
                                      label: try integer(f["label"], "label", fail), line: row.line)
        } else if f["sentence"] != nil, f["option1"] != nil {
            item = try winogrande(table, row, fail)
        } else {
            throw fail("not a recognised multiple-choice row (expected context+choices, contexts+continuation, BoolQ, PIQA or WinoGrande fields)")
        }
        guard item.choices.count >= 2 else { throw fail("needs at least 2 choices, has \(item.choices.count)") }
        guard item.choices.indices.contains(item.label) else { throw fail("label \(item.label) is not a choice index 0..<\(item.choices.count)") }
        return item
    }

    static func winogrande(_ table: DataTable, _ row: DataTable.Row, _ fail: (String) -> EvaluationError) throws -> MultipleChoiceItem {
        let sentence = try table.text(row, "sentence")
        let parts = sentence.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw fail("the WinoGrande sentence must hold exactly one '_'") }
        let rest = parts[1].trimmingCharacters(in: .whitespaces)
        guard !rest.isEmpty else { throw fail("nothing follows the blank to score") }
        let options = [try table.text(row, "option1"), try table.text(row, "option2")]
        let answer = try integer(row.fields["answer"], "answer", fail)
        guard answer == 1 || answer == 2 else { throw fail("answer must be 1 or 2, got \(answer)") }
        return MultipleChoiceItem(choices: options.map { .init(context: String(parts[0]) + $0, continuation: " " + rest) },
                                  label: answer - 1, line: row.line)
    }

    static func strings(_ v: JSONValue?, _ key: String, _ fail: (String) -> EvaluationError) throws -> [String] {
        guard case .array(let items)? = v else { throw fail("'\(key)' must be a list of strings") }
        return try items.map { item in
            guard case .string(let s) = item else { throw fail("'\(key)' must be a list of strings") }
            return s
        }
    }

    static func integer(_ v: JSONValue?, _ key: String, _ fail: (String) -> EvaluationError) throws -> Int {
        guard let v else { throw fail("missing '\(key)'") }
        guard let i = v.integer else { throw fail("'\(key)' is not a whole number") }
        return i
    }
}
