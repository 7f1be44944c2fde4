import Foundation
import Inference
import Models

/// `fingpt chat`: an interactive conversation read from standard input, one user message per line.
enum ChatCommand {
    static let usage = """
    fingpt chat --model PATH [--adapter DIR] [--system TEXT] [--tokenizer PATH] [--context N] \(GenerationArguments.usage)
      Type a message and press Enter; an empty line or end of input quits; /reset starts over.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["help"])
        if a.flag("help") { print(usage); return }
        let path = try a.require("model")
        let system = a.string("system", default: "You are a helpful financial assistant.")
        let tokenizer = a.string("tokenizer"), adapter = a.string("adapter")
        let context = try a.int("context")
        let options = try GenerationArguments.parse(&a, defaultMax: 256)
        try a.checkAllUsed()
        let loaded = try LanguageModelLoader.load(path: path, tokenizerPath: tokenizer, maxContext: context ?? 4096, adapterPath: adapter)
        var session = ChatSession(loaded: loaded, system: system, options: options)
        let interactive = isatty(fileno(stdin)) != 0
        FileHandle.standardError.write(Data("[\(loaded.description)] chat ready; empty line to quit\n".utf8))
        while true {
            if interactive { print("> ", terminator: ""); fflush(stdout) }
            guard let line = readLine(), !line.trimmingCharacters(in: .whitespaces).isEmpty else { break }
            if line == "/reset" { session = ChatSession(loaded: loaded, system: system, options: options); continue }
            do {
                try session.send(line) { print($0, terminator: ""); fflush(stdout) }
                print()
            } catch {
                print()
                FileHandle.standardError.write(Data("error: \(error) (use /reset to start a new conversation)\n".utf8))
            }
        }
    }
}
