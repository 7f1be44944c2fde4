import Foundation

/// Reads GPT-2's original tokenizer files: `vocab.json` (token -> id) and `merges.txt` (one
/// merge "left right" per line in rank order; a first line starting with `#version` is a
/// comment; blank lines at the end are ignored, anywhere else they are errors; CRLF line
/// endings are accepted).
///
/// `<|endoftext|>`, when in the vocabulary, is a control token and the BOS, EOS and unknown
/// token, as in Hugging Face's `GPT2Tokenizer`. A `tokenizer_config.json` may add special
/// tokens (`added_tokens_decoder`) and name the BOS/EOS/padding/unknown tokens; a null there
/// means none.
enum GPT2VocabLoader {
    static let endOfText = "<|endoftext|>"

    /// Reads the files, with the tokenizer_config.json at `configPath` or, when that is nil, the
    /// one next to vocab.json if it exists.
    static func load(vocabPath: String, mergesPath: String, preTokenizer: PreTokenizer,
                     configPath: String?) throws -> TokenizerDefinition {
        let vocab = try TokenizerDefinition.readFile(vocabPath)
        let merges = try TokenizerDefinition.readFile(mergesPath)
        let config = try (configPath ?? TokenizerDefinition.sibling("tokenizer_config.json", of: vocabPath))
            .map { try TokenizerConfigFile(path: $0) }
        return try definition(vocabJSON: vocab, vocabSource: vocabPath, merges: merges, mergesSource: mergesPath,
                              preTokenizer: preTokenizer, config: config)
    }

    static func definition(vocabJSON: Data, vocabSource: String, merges: Data, mergesSource: String,
                           preTokenizer: PreTokenizer, config: TokenizerConfigFile?) throws -> TokenizerDefinition {
        let root = try JSONObjectReader.parse(vocabJSON, source: vocabSource)
        var assembler = VocabularyAssembler()
        try assembler.addModelVocabulary(root.object, source: vocabSource, path: "")
        if let id = assembler.idOfText[endOfText] {
            try assembler.add(.init(id: id, content: endOfText, special: true, source: vocabSource))
        }
        for token in config?.addedTokens ?? [] { try assembler.add(token) }
        let (tokens, types) = try assembler.build()
        let (pairs, lines) = try parseMerges(merges, source: mergesSource)

        var d = TokenizerDefinition(tokens: tokens, tokenTypes: types, merges: pairs, preTokenizer: preTokenizer,
                                    source: vocabSource)
        d.mergesFile = (mergesSource, lines)
        let ids = assembler.idOfText
        let fallback = ids[endOfText].map { [endOfText: $0] } ?? [:]
        d.bosID = try TokenizerConfigFile.resolve("bos_token", config: config, vocabulary: ids, fallbacks: [endOfText], in: fallback)
        d.eosID = try TokenizerConfigFile.resolve("eos_token", config: config, vocabulary: ids, fallbacks: [endOfText], in: fallback)
        d.unknownID = try TokenizerConfigFile.resolve("unk_token", config: config, vocabulary: ids, fallbacks: [endOfText], in: fallback)
        d.padID = try TokenizerConfigFile.resolve("pad_token", config: config, vocabulary: ids, fallbacks: [], in: [:])
        return d
    }

    /// The merges of a merges.txt and the (1-based) line number of each.
    static func parseMerges(_ data: Data, source: String) throws -> (pairs: [(String, String)], lines: [Int]) {
        var lines = Array(data.split(separator: 0x0A, omittingEmptySubsequences: false))
        for i in lines.indices where lines[i].last == 0x0D { lines[i] = lines[i].dropLast() }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        var pairs: [(String, String)] = []
        var numbers: [Int] = []
        pairs.reserveCapacity(lines.count)
        numbers.reserveCapacity(lines.count)
        for (i, bytes) in lines.enumerated() {
            let lineNumber = i + 1
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw TokenizerError.malformedFile(source: source, reason: "line \(lineNumber) is not UTF-8 text")
            }
            if i == 0 && line.hasPrefix("#version") { continue }
            guard !line.isEmpty else {
                throw TokenizerError.invalidMergesLine(source: source, line: lineNumber, text: line, reason: "blank line")
            }
            // Split on the space scalar (a space followed by a combining mark is one Character).
            let parts = line.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.invalidMergesLine(source: source, line: lineNumber, text: line,
                                                       reason: "expected two tokens separated by one space")
            }
            pairs.append((String(parts[0]), String(parts[1])))
            numbers.append(lineNumber)
        }
        return (pairs, numbers)
    }
}
