/// One `--data` argument: a JSONL file and how many times its rows repeat in each epoch.
///
/// Written `path[:weight]`. The weight is a positive integer repeat count (FinGPT's mix repeats
/// FPB x6, FiQA x21, TFNS x2: `fpb.jsonl:6 fiqa.jsonl:21 tfns.jsonl:2`); it defaults to 1. Repeat
/// counts rather than sampling probabilities keep an epoch exact: every row appears exactly
/// `weight` times per epoch, so nothing is left to chance and the mix is reproducible.
/// The text after the last `:` is always read as the weight, so a path that itself contains `:`
/// must be given with an explicit weight (`we:ird.jsonl:1`).
public struct InstructionDataSpec: Equatable, Sendable, CustomStringConvertible {
    /// Largest accepted repeat count (a guard against typos that would blow up an epoch).
    public static let maxWeight = 10_000

    public var path: String
    public var weight: Int

    public init(path: String, weight: Int = 1) throws {
        guard !path.isEmpty else { throw InstructionDataError.invalidSpec(spec: "\(path):\(weight)", reason: "the path is empty") }
        guard weight >= 1, weight <= Self.maxWeight else {
            throw InstructionDataError.invalidSpec(spec: "\(path):\(weight)",
                reason: "the weight must be a repeat count in 1...\(Self.maxWeight), got \(weight)")
        }
        self.path = path
        self.weight = weight
    }

    /// Parses `path` or `path:weight`.
    public init(parsing spec: String) throws {
        guard let colon = spec.lastIndex(of: ":") else {
            try self.init(path: spec)
            return
        }
        let path = String(spec[..<colon])
        let text = String(spec[spec.index(after: colon)...])
        guard !text.isEmpty else {
            throw InstructionDataError.invalidSpec(spec: spec, reason: "nothing after ':'; write path or path:weight")
        }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }), let weight = Int(text) else {
            throw InstructionDataError.invalidSpec(spec: spec,
                reason: "the weight '\(text)' is not a positive integer repeat count (e.g. fpb.jsonl:6)")
        }
        guard !path.isEmpty else { throw InstructionDataError.invalidSpec(spec: spec, reason: "the path is empty") }
        guard weight >= 1, weight <= Self.maxWeight else {
            throw InstructionDataError.invalidSpec(spec: spec,
                reason: "the weight must be a repeat count in 1...\(Self.maxWeight), got \(text)")
        }
        try self.init(path: path, weight: weight)
    }

    /// The spec as written on the command line.
    public var description: String { weight == 1 ? path : "\(path):\(weight)" }
}
