/// RFC 4180 comma-separated values: fields may be quoted with `"`, a quoted field may hold commas,
/// line breaks and doubled quotes. Each record keeps the 1-based line it starts on.
public enum CSVParser {
    public struct Record: Equatable, Sendable {
        public var line: Int
        public var fields: [String]
    }

    /// Splits `text` into records; blank lines are skipped. Throws on an unterminated quote or
    /// text after a closing quote.
    public static func parse(_ text: String, source: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [Character] = []
        var line = 1, recordLine = 1
        var inQuotes = false, afterQuote = false, quoteLine = 0
        var iterator = text.makeIterator()
        var pending: Character? = iterator.next()
        func endRecord() {
            fields.append(String(field))
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
            field = []
        }
        while let ch = pending {
            pending = iterator.next()
            if inQuotes {
                if ch == "\"" {
                    if pending == "\"" { field.append("\""); pending = iterator.next() } else { inQuotes = false; afterQuote = true }
                } else {
                    if ch == "\n" || ch == "\r\n" { line += 1 }
                    field.append(ch)
                }
                continue
            }
            switch ch {
            case ",":
                fields.append(String(field)); field = []; afterQuote = false
            case "\n", "\r\n", "\r":
                endRecord(); afterQuote = false
                line += 1; recordLine = line
            case "\"" where field.isEmpty && !afterQuote:
                inQuotes = true; quoteLine = line
            default:
                guard !afterQuote else {
                    throw EvaluationError.malformedRow(file: source, line: line, reason: "text after a closing quote")
                }
                field.append(ch)
            }
        }
        if inQuotes { throw EvaluationError.malformedRow(file: source, line: quoteLine, reason: "quoted field never closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
