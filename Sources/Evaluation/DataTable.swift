import Foundation

/// Rows of named fields read from JSON Lines (one object a line) or CSV with a header row, each
/// row remembering its 1-based line so that errors can point at it.
public struct DataTable: Sendable {
    public struct Row: Sendable {
        public var line: Int
        public var fields: [String: JSONValue]
    }

    public var source: String
    public var rows: [Row]

    /// Reads JSON Lines when the first non-blank character is `{`, CSV otherwise.
    public static func parse(_ text: String, source: String) throws -> DataTable {
        let first = text.first { !$0.isWhitespace }
        return first == "{" ? try parseJSONLines(text, source: source) : try parseCSV(text, source: source)
    }

    /// One JSON object per line; blank lines are skipped.
    public static func parseJSONLines(_ text: String, source: String) throws -> DataTable {
        var rows: [Row] = []
        for (number, line) in TextLines.split(text) {
            if line.allSatisfy(\.isWhitespace) { continue }
            let value: JSONValue
            do { value = try JSONValue.parse(line) } catch {
                throw EvaluationError.malformedRow(file: source, line: number, reason: "not valid JSON")
            }
            guard case .object(let fields) = value else {
                throw EvaluationError.malformedRow(file: source, line: number, reason: "expected a JSON object")
            }
            rows.append(Row(line: number, fields: fields))
        }
        return DataTable(source: source, rows: rows)
    }

    /// CSV whose first record names the columns; every other record must have as many fields.
    public static func parseCSV(_ text: String, source: String) throws -> DataTable {
        let records = try CSVParser.parse(text, source: source)
        guard let header = records.first else { return DataTable(source: source, rows: []) }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let rows = try records.dropFirst().map { r -> Row in
            guard r.fields.count == names.count else {
                throw EvaluationError.malformedRow(file: source, line: r.line,
                                                   reason: "\(r.fields.count) fields, the header has \(names.count)")
            }
            return Row(line: r.line, fields: Dictionary(zip(names, r.fields.map(JSONValue.string)), uniquingKeysWith: { a, _ in a }))
        }
        return DataTable(source: source, rows: rows)
    }

    /// The text of `key` in `row`, or an error naming the file, line and key.
    public func text(_ row: Row, _ key: String) throws -> String {
        guard let v = row.fields[key] else { throw missing(row, key) }
        guard let s = v.text else { throw EvaluationError.malformedRow(file: source, line: row.line, reason: "'\(key)' is not text") }
        return s
    }

    /// The number in `key` (a JSON number or numeric text).
    public func number(_ row: Row, _ key: String) throws -> Double {
        guard let v = row.fields[key] else { throw missing(row, key) }
        guard let d = v.number, d.isFinite else {
            throw EvaluationError.malformedRow(file: source, line: row.line, reason: "'\(key)' is not a number")
        }
        return d
    }

    /// Whether the table's first row has every one of `keys`.
    public func hasColumns(_ keys: [String]) -> Bool {
        guard let first = rows.first else { return false }
        return keys.allSatisfy { first.fields[$0] != nil }
    }

    func missing(_ row: Row, _ key: String) -> EvaluationError {
        EvaluationError.malformedRow(file: source, line: row.line,
                                     reason: "missing '\(key)' (fields: \(row.fields.keys.sorted().joined(separator: ", ")))")
    }
}
