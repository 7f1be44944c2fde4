/// Splits a custom prompt template into literal text and `{instruction}` / `{input}` placeholders.
enum CustomTemplateParser {
    enum Field: String { case instruction, input }
    enum Part: Equatable { case literal(String), placeholder(Field) }

    /// Substitution is a single pass over the template, so braces inside the substituted values
    /// (FinGPT instructions contain `{negative/neutral/positive}`) are never re-read.
    static func parse(_ template: String) throws -> [Part] {
        var parts: [Part] = []
        var literal = ""
        let chars = Array(template)
        var i = 0
        while i < chars.count {
            if chars[i] == "{", let close = identifierEnd(chars, from: i + 1) {
                let name = String(chars[(i + 1)..<close])
                guard let field = Field(rawValue: name) else {
                    throw InstructionDataError.invalidTemplate("unknown placeholder {\(name)} in '\(template)'; use {instruction} and {input}")
                }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.placeholder(field))
                i = close + 1
            } else {
                literal.append(chars[i])
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }

    /// Index of the `}` closing an identifier that starts at `start`, or nil when the brace does
    /// not enclose an identifier (`[A-Za-z_][A-Za-z0-9_]*`).
    private static func identifierEnd(_ chars: [Character], from start: Int) -> Int? {
        var j = start
        while j < chars.count, chars[j].isASCII, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
        guard j > start, j < chars.count, chars[j] == "}", !chars[start].isNumber else { return nil }
        return j
    }
}
