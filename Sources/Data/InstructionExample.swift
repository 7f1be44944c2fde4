/// One instruction-tuning example as read from a JSONL file, before templating and tokenization.
public struct InstructionExample: Equatable, Sendable {
    /// What the model is shown before the answer.
    public enum Prompt: Equatable, Sendable {
        /// FinGPT / Alpaca form: an instruction and an input (possibly empty) to be templated.
        case fields(instruction: String, input: String)
        /// Prompt/completion form: the prompt text itself.
        case text(String)
    }

    public var prompt: Prompt
    /// The text the model should produce (FinGPT `output`, or `completion`).
    public var answer: String
    /// The file the example came from (as given), for messages.
    public var file: String
    /// 1-based line number in `file`.
    public var line: Int

    public init(prompt: Prompt, answer: String, file: String = "<inline>", line: Int = 0) {
        self.prompt = prompt
        self.answer = answer
        self.file = file
        self.line = line
    }

    /// A stable 64-bit hash of the example's content (prompt form, prompt fields and answer; not its
    /// location), mixed with `seed`. The same on every run and machine (FNV-1a over length-prefixed
    /// UTF-8, finished with a SplitMix64 step), unlike Swift's per-process seeded `Hasher`.
    public func contentHash(seed: UInt64) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        func add(_ s: String) {
            var n = UInt64(s.utf8.count)
            for _ in 0..<8 { mix(UInt8(truncatingIfNeeded: n)); n >>= 8 }
            for b in s.utf8 { mix(b) }
        }
        switch prompt {
        case .fields(let instruction, let input): mix(1); add(instruction); add(input)
        case .text(let text): mix(2); add(text)
        }
        add(answer)
        var z = h &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
