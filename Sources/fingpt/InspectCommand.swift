import Foundation
import Models
import Training

/// `fingpt inspect`: metadata, tensor table, parameter count and size of a model file.
enum InspectCommand {
    static let usage = """
    fingpt inspect PATH [--full]
      PATH: a GGUF file, a safetensors file, a Hugging Face model folder, or a fingpt checkpoint.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["full", "help"])
        if a.flag("help") { print(usage); return }
        let full = a.flag("full")
        try a.checkAllUsed()
        guard let path = a.positional.first else { throw CLIError.usage("inspect needs a PATH\n" + usage) }
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readData(ofLength: 8)) ?? Data()
        let report = head == Data("FGPTCKPT".utf8) ? try Checkpoint(path: path).inspection : try ModelInspection.inspect(path: path)
        print(report.render(maxMetadataValue: full ? Int.max : 80), terminator: "")
    }
}
