import Foundation

/// Everything `BPETokenizer` needs, as a file loader (`TokenizerJSONLoader`, `GPT2VocabLoader`)
/// gathers it before the tokenizer is built.
struct TokenizerDefinition {
    /// Vocabulary entries; index = token id.
    var tokens: [String]
    /// One type per token.
    var tokenTypes: [TokenType]
    /// Merge rules in rank order.
    var merges: [(String, String)]
    var preTokenizer: PreTokenizer
    var addPrefixSpace = false
    var ignoreMerges = false
    var bosID: Int32? = nil
    var eosID: Int32? = nil
    var padID: Int32? = nil
    var unknownID: Int32? = nil
    var addBOS = false
    /// The file (or description) the tokenizer came from, used in messages.
    var source: String
    /// For merges read from a merges.txt: that file and the line number of each merge, so that
    /// an error about merge #i names its line.
    var mergesFile: (path: String, lines: [Int])? = nil

    /// The contents of the file at `path`, or `TokenizerError.unreadableFile` naming it.
    static func readFile(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenizerError.unreadableFile(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw TokenizerError.unreadableFile(path: path, reason: "it is a folder") }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.unreadableFile(path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// The path of `name` in the folder that holds `path`, if such a file exists.
    static func sibling(_ name: String, of path: String) -> String? {
        let candidate = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(name).path
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }
}
