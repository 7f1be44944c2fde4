import Foundation

/// Minimal `--name value` / `--flag` command-line parsing with clear errors for unknown options.
struct Arguments {
    private(set) var values: [String: String] = [:]
    /// Every value of an option given more than once, in order.
    private(set) var repeated: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []
    private var used: Set<String> = []

    init(_ args: [String], flagNames: Set<String>) throws {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a.hasPrefix("--") {
                let key = String(a.dropFirst(2))
                if let eq = key.firstIndex(of: "=") {
                    values[String(key[..<eq])] = String(key[key.index(after: eq)...])
                    repeated[String(key[..<eq]), default: []].append(String(key[key.index(after: eq)...]))
                } else if flagNames.contains(key) {
                    flags.insert(key)
                } else {
                    guard i + 1 < args.count else { throw CLIError.usage("option --\(key) needs a value") }
                    values[key] = args[i + 1]
                    repeated[key, default: []].append(args[i + 1])
                    i += 1
                }
            } else {
                positional.append(a)
            }
            i += 1
        }
    }

    mutating func string(_ name: String) -> String? { used.insert(name); return values[name] }

    mutating func string(_ name: String, default d: String) -> String { string(name) ?? d }

    /// All values of an option that may be repeated (`--data a --data b`), each also split at commas.
    mutating func strings(_ name: String) -> [String] {
        used.insert(name)
        return (repeated[name] ?? []).flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }

    mutating func require(_ name: String) throws -> String {
        guard let v = string(name) else { throw CLIError.usage("missing required option --\(name)") }
        return v
    }

    mutating func int(_ name: String) throws -> Int? {
        guard let s = string(name) else { return nil }
        guard let v = Int(s) else { throw CLIError.usage("--\(name) expects an integer, got '\(s)'") }
        return v
    }

    mutating func int(_ name: String, default d: Int) throws -> Int { try int(name) ?? d }

    mutating func float(_ name: String) throws -> Float? {
        guard let s = string(name) else { return nil }
        guard let v = Float(s) else { throw CLIError.usage("--\(name) expects a number, got '\(s)'") }
        return v
    }

    mutating func float(_ name: String, default d: Float) throws -> Float { try float(name) ?? d }

    mutating func flag(_ name: String) -> Bool { used.insert(name); return flags.contains(name) }

    /// Throws for any option given but never read by the command.
    func checkAllUsed() throws {
        let unknown = Set(values.keys).union(flags).subtracting(used)
        if let first = unknown.sorted().first { throw CLIError.usage("unknown option --\(first)") }
    }
}

enum CLIError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self { case .usage(let m): return m }
    }
}
