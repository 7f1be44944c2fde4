import Data
import Foundation
import IO

/// `fingpt split`: hold out a dev share of instruction JSONL files, by the same seeded content hash
/// that `fingpt finetune --dev-fraction` uses, writing each file's lines unchanged to NAME.train.jsonl
/// and NAME.dev.jsonl.
enum SplitCommand {
    static let usage = """
    fingpt split --data FILE [--data ...] --out DIR [--dev-fraction 0.1] [--seed 1337]
      Rows are held out by a seeded hash of their content: the same rows every run, and the same rows
      that `fingpt finetune --dev-fraction F --seed S` holds out for validation.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help"])
        if a.flag("help") { print(usage); return }
        let files = a.strings("data"), out = try a.require("out")
        let fraction = Double(try a.float("dev-fraction", default: 0.1)), seed = UInt64(try a.int("seed", default: 1337))
        try a.checkAllUsed()
        guard !files.isEmpty else { throw CLIError.usage("give at least one --data FILE\n" + usage) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for file in files {
            let examples = try InstructionFileReader.read(path: file)
            let heldOut = Set(examples.filter { InstructionSplit.isHeldOut($0, fraction: fraction, seed: seed) }.map(\.line))
            let text = try String(contentsOfFile: file, encoding: .utf8)
            var train = "", dev = ""
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                if heldOut.contains(i + 1) { dev += line + "\n" } else { train += line + "\n" }
            }
            let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            let trainPath = (out as NSString).appendingPathComponent(name + ".train.jsonl")
            let devPath = (out as NSString).appendingPathComponent(name + ".dev.jsonl")
            try AtomicFile.write(Data(train.utf8), to: trainPath)
            try AtomicFile.write(Data(dev.utf8), to: devPath)
            print("\(file): \(examples.count - heldOut.count) rows -> \(trainPath), \(heldOut.count) rows -> \(devPath)")
        }
    }
}
