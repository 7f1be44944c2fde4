import Foundation

/// Reads instruction-tuning examples from JSON Lines.
///
/// Each non-blank line is one JSON object in one of two forms, detected per line (so a file may
/// mix them):
/// - FinGPT / Alpaca: `instruction` and `output` strings, plus an optional `input` string (missing
///   means empty); any other fields (`target`, `src_index`, ...) are ignored.
/// - prompt/completion: `prompt` and `completion` strings.
///
/// Blank (whitespace-only) lines are skipped, `\r\n` endings and a UTF-8 byte-order mark are
/// accepted. Anything else — invalid JSON or UTF-8, a non-object, a missing required field, a
/// required field that is not a string, an empty answer, an object with both forms' fields — is
/// refused with an error naming the file and the 1-based line number.
public enum InstructionFileReader {
    /// Reads every example of the file at `path`.
    public static func read(path: String) throws -> [InstructionExample] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw InstructionDataError.unreadableFile(file: path, reason: "cannot read the file: \(error.localizedDescription)")
        }
        let examples = try parse(data, file: path)
        guard !examples.isEmpty else {
            throw InstructionDataError.unreadableFile(file: path, reason: "the file holds no examples")
        }
        return examples
    }

    /// Parses JSONL `data`; `file` names the source in errors and in each example.
    public static func parse(_ data: Data, file: String) throws -> [InstructionExample] {
        var examples: [InstructionExample] = []
        let bytes = [UInt8](data)
        var start = 0, lineNumber = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var contentEnd = end
            if contentEnd > start && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let line = bytes[start..<contentEnd]
            if !line.allSatisfy(isJSONWhitespace) {
                examples.append(try parseLine(Data(line), file: file, line: lineNumber))
            }
            start = end + 1
        }
        return examples
    }

    /// Parses one line (already known to be non-blank).
    static func parseLine(_ line: Data, file: String, line number: Int) throws -> InstructionExample {
        func fail(_ reason: String) -> InstructionDataError { .malformedLine(file: file, line: number, reason: reason) }
        guard String(data: line, encoding: .utf8) != nil else { throw fail("the line is not valid UTF-8") }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed])
        } catch {
            throw fail("the line is not valid JSON")
        }
        guard let object = value as? [String: Any] else {
            throw fail("expected a JSON object, found \(jsonKind(value))")
        }
        func string(_ key: String, required: Bool) throws -> String? {
            guard let v = object[key] else {
                if required { throw fail("missing required field \"\(key)\"") }
                return nil
            }
            guard let s = v as? String else { throw fail("field \"\(key)\" must be a string, found \(jsonKind(v))") }
            return s
        }
        let hasFields = object["instruction"] != nil
        let hasPrompt = object["prompt"] != nil || object["completion"] != nil
        if hasFields && hasPrompt {
            throw fail("the object has both instruction/output and prompt/completion fields; use one form per line")
        }
        if hasFields {
            let instruction = try string("instruction", required: true)!
            let input = try string("input", required: false) ?? ""
            let output = try string("output", required: true)!
            guard !output.isEmpty else { throw fail("field \"output\" is empty (nothing to learn)") }
            return InstructionExample(prompt: .fields(instruction: instruction, input: input), answer: output, file: file, line: number)
        }
        if hasPrompt {
            let prompt = try string("prompt", required: true)!
            let completion = try string("completion", required: true)!
            guard !completion.isEmpty else { throw fail("field \"completion\" is empty (nothing to learn)") }
            return InstructionExample(prompt: .text(prompt), answer: completion, file: file, line: number)
        }
        let keys = object.keys.sorted().prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
        throw fail("expected instruction/input/output (FinGPT) or prompt/completion fields, found \(keys.isEmpty ? "an empty object" : "keys " + keys)")
    }

    private static func isJSONWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

    private static func jsonKind(_ v: Any) -> String {
        switch v {
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case is NSNull: return "null"
        case let n as NSNumber:
            // JSON booleans come back as Foundation's boolean NSNumber subclass.
            return type(of: n) == type(of: NSNumber(value: true)) ? "a boolean" : "a number"
        default: return "a \(type(of: v))"
        }
    }
}
