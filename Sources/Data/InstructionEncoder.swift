import Tokenizers

/// Turns instruction examples into token ids with a `PromptTemplate` and a `BPETokenizer`.
///
/// The prompt and the answer are encoded separately (as FinGPT does: `tokenizer(prompt) +
/// tokenizer(answer) + [eos]`), so the prompt's ids are exactly what generation sees when it is
/// given the same prompt; within each, text between special tokens is encoded as one string with
/// special-token matching off, and the template's own markers become their single ids. The
/// tokenizer's BOS is prepended to the prompt when the tokenizer adds one by default.
///
/// Truncation: an example whose inputs (`prompt + answer - 1` tokens) exceed
/// `maxSequenceLength` keeps its whole answer and loses prompt tokens from the MIDDLE of the
/// prompt: the first half of the remaining prompt budget and the last half are kept, so the
/// beginning (BOS, instruction, chat header) and the end (the `Answer: ` cue or the assistant
/// header) survive and the input text in between is cut. An answer that alone does not fit
/// (`answer tokens > maxSequenceLength`, leaving no prompt token to predict it from) is an error.
public struct InstructionEncoder: Sendable {
    public let tokenizer: BPETokenizer
    public let template: PromptTemplate
    /// Most input positions a row may have (the model's training sequence length).
    public let maxSequenceLength: Int
    /// Ids of the special tokens the template writes, by text.
    private let specialIDs: [String: Int32]

    /// - Throws: when the template needs a token the tokenizer lacks (ChatML markers as special
    ///   tokens, or an end-of-sequence token for `fingpt`/`custom`), or `maxSequenceLength < 2`.
    public init(tokenizer: BPETokenizer, template: PromptTemplate, maxSequenceLength: Int) throws {
        guard maxSequenceLength >= 2 else {
            throw InstructionDataError.invalidArgument("the maximum sequence length must be at least 2, got \(maxSequenceLength)")
        }
        var ids: [String: Int32] = [:]
        if template.usesChatMarkers {
            for marker in [PromptTemplate.chatMLStart, PromptTemplate.chatMLEnd] {
                guard let id = tokenizer.id(of: marker), tokenizer.tokenTypes[Int(id)].isSpecial else {
                    throw InstructionDataError.invalidTemplate(
                        "the ChatML template needs \(marker) as a special token, and tokenizer \(tokenizer.source) has none; use the fingpt template")
                }
                ids[marker] = id
            }
        } else if tokenizer.eosID == nil {
            throw InstructionDataError.invalidTemplate("tokenizer \(tokenizer.source) has no end-of-sequence token to end answers with")
        }
        self.tokenizer = tokenizer
        self.template = template
        self.maxSequenceLength = maxSequenceLength
        self.specialIDs = ids
    }

    /// The padding id to use for this tokenizer's batches (its pad token, else its eos, else 0).
    /// Padding positions are never scored, so any valid id works.
    public var suggestedPadID: Int32 { tokenizer.padID ?? tokenizer.eosID ?? 0 }

    /// Encodes one example.
    public func encode(_ example: InstructionExample) throws -> TokenizedInstruction {
        var encoder = tokenizer.makeEncoder()
        return try encode(example, with: &encoder)
    }

    /// Encodes many examples in parallel (results in input order); the first failing example, in
    /// input order, is thrown.
    public func encode(_ examples: [InstructionExample], threads: Int = ParallelWork.defaultThreadCount) throws -> [TokenizedInstruction] {
        var results = [Result<TokenizedInstruction, Error>?](repeating: nil, count: examples.count)
        results.withUnsafeMutableBufferPointer { out in
            ParallelWork.run(count: examples.count, threads: threads, makeWorker: { tokenizer.makeEncoder() }) { encoder, i in
                out[i] = Result { try encode(examples[i], with: &encoder) }
            }
        }
        return try results.map { try $0!.get() }
    }

    func encode(_ example: InstructionExample, with encoder: inout BPEEncoder) throws -> TokenizedInstruction {
        var prompt: [Int32] = []
        if tokenizer.addBOS, let bos = tokenizer.bosID { prompt.append(bos) }
        append(template.prompt(for: example), to: &prompt, with: &encoder)
        var answer: [Int32] = []
        append(template.answer(for: example), to: &answer, with: &encoder)
        guard answer.count <= maxSequenceLength else {
            throw InstructionDataError.answerTooLong(file: example.file, line: example.line,
                                                     answerTokens: answer.count, limit: maxSequenceLength)
        }
        guard !prompt.isEmpty else {
            throw InstructionDataError.malformedLine(file: example.file, line: example.line,
                reason: "the prompt encodes to no tokens, so there is nothing to predict the answer from")
        }
        let budget = maxSequenceLength + 1 - answer.count
        var dropped = 0
        if prompt.count > budget {
            let head = budget / 2, tail = budget - head
            dropped = prompt.count - budget
            prompt = Array(prompt[..<head]) + Array(prompt[(prompt.count - tail)...])
        }
        return TokenizedInstruction(prompt: prompt, answer: answer, droppedPromptTokens: dropped,
                                    file: example.file, line: example.line)
    }

    private func append(_ text: PromptText, to out: inout [Int32], with encoder: inout BPEEncoder) {
        for piece in text.pieces {
            switch piece {
            case .text(let s):
                var copy = s
                copy.withUTF8 { encoder.appendTokens(of: $0, allowSpecial: false, to: &out) }
            case .special(let marker):
                // Markers are checked in init; every template marker is in specialIDs.
                if let id = specialIDs[marker] { out.append(id) }
            case .endOfSequence:
                if let eos = tokenizer.eosID { out.append(eos) }
            }
        }
    }
}
