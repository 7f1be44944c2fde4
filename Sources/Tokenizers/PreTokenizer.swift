/// Splits text into the pieces ("pre-tokens") that byte-level BPE then encodes independently.
///
/// The regexes are implemented by hand as a scan over Unicode scalars (no regex engine), which is
/// both fast and exact about `\s`, `\p{L}` and `\p{N}`.
public enum PreTokenizer: String, CaseIterable, Sendable {
    /// GPT-2's regex: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// SmolLM / SmolLM2 (`tokenizer.ggml.pre` = "smollm"): every `\p{N}` scalar is its own piece
    /// (Hugging Face `Digits(individual_digits=true)`), then the GPT-2 regex runs on the text
    /// between numbers (Hugging Face `ByteLevel(use_regex=true)`; llama.cpp regexes `\p{N}`, GPT-2).
    case smollm
    /// Llama 3's regex (`llama3Pattern`; Hugging Face `Split(Regex, behavior: Isolated)` followed by
    /// `ByteLevel(use_regex: false)`, llama.cpp's "llama-bpe"). Unlike GPT-2's, contractions are
    /// case-insensitive, a letter run may take one leading non-letter, non-digit scalar other than
    /// CR/LF, numbers come in runs of at most three digits, and line breaks stay with the
    /// punctuation or whitespace before them. Contractions follow Hugging Face (Oniguruma case
    /// folding, so "'ſ" counts as "'s"); llama.cpp spells them `'[sS]` etc. and differs on that
    /// one letter only.
    case llama3

    /// Llama 3's pre-tokenization regex, exactly as its tokenizer.json spells it.
    public static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The pre-tokenizer named by the GGUF key `tokenizer.ggml.pre`, or nil if unsupported.
    public init?(ggmlName: String) {
        switch ggmlName {
        case "gpt2", "gpt-2": self = .gpt2
        case "smollm": self = .smollm
        case "llama3", "llama-v3", "llama-bpe": self = .llama3
        default: return nil
        }
    }

    /// The pieces of `text`, in order; concatenated they give back `text`.
    public func split(_ text: String) -> [String] {
        var copy = text
        return copy.withUTF8 { buf in
            var out: [String] = []
            forEachPiece(in: buf) { r in
                out.append(String(decoding: UnsafeBufferPointer(rebasing: buf[r]), as: UTF8.self))
            }
            return out
        }
    }

    /// Calls `body` with the byte range of each piece of the valid UTF-8 text in `utf8`.
    /// Works in one pass with constant extra memory.
    public func forEachPiece(in utf8: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let scan = UTF8Scan(bytes: utf8)
        switch self {
        case .gpt2:
            scan.gpt2Pieces(0, utf8.count, body)
        case .smollm:
            var start = 0
            var i = 0
            while i < utf8.count {
                let (v, len) = scan.scalar(at: i)
                if ScalarClass.of(v) == .number {
                    if start < i { scan.gpt2Pieces(start, i, body) }
                    body(i..<(i + len))
                    start = i + len
                }
                i += len
            }
            if start < utf8.count { scan.gpt2Pieces(start, utf8.count, body) }
        case .llama3:
            scan.llama3Pieces(0, utf8.count, body)
        }
    }
}

/// Decodes scalars of a valid UTF-8 buffer on demand and runs the GPT-2 regex over byte ranges.
struct UTF8Scan {
    let bytes: UnsafeBufferPointer<UInt8>

    /// The scalar starting at byte `i` and its length in bytes.
    @inline(__always)
    func scalar(at i: Int) -> (UInt32, Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, 1) }
        var v: UInt32
        var len: Int
        if b0 < 0xE0 { v = b0 & 0x1F; len = 2 } else if b0 < 0xF0 { v = b0 & 0x0F; len = 3 } else { v = b0 & 0x07; len = 4 }
        len = min(len, bytes.count - i)   // cannot trigger for valid UTF-8; stays in bounds regardless
        for k in 1..<max(len, 1) { v = (v << 6) | (UInt32(bytes[i + k]) & 0x3F) }
        return (v, len)
    }

    @inline(__always)
    func scalarClass(at i: Int) -> (ScalarClass, Int) {
        let (v, len) = scalar(at: i)
        return (ScalarClass.of(v), len)
    }

    /// Runs the GPT-2 regex over bytes `start..<end`; `end` is a hard boundary (no lookahead past it).
    func gpt2Pieces(_ start: Int, _ end: Int, _ body: (Range<Int>) -> Void) {
        let space: UInt8 = 0x20, apostrophe: UInt8 = 0x27
        var i = start
        while i < end {
            // Alternative 1: contractions 's 't 're 've 'm 'll 'd (ASCII, case-sensitive).
            if bytes[i] == apostrophe, i + 1 < end {
                let a = bytes[i + 1]
                var len = 0
                if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { len = 2 }          // s t m d
                else if i + 2 < end {
                    let b = bytes[i + 2]
                    if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { len = 3 } // re ve ll
                }
                if len > 0 {
                    body(i..<(i + len))
                    i += len
                    continue
                }
            }
            // Alternatives 2-4: an optional single space, then a run of letters, numbers or others.
            let j = (bytes[i] == space && i + 1 < end) ? i + 1 : i
            let (c, cl) = scalarClass(at: j)
            if c != .whitespace {
                var k = j + cl
                while k < end {
                    let (ck, lk) = scalarClass(at: k)
                    if ck != c { break }
                    k += lk
                }
                body(i..<k)
                i = k
                continue
            }
            // Alternatives 5-6: a whitespace run; \s+(?!\S) leaves its last scalar to the next
            // piece when the run has several scalars and is followed by a non-space.
            var k = i
            var lastStart = i
            while k < end {
                let (ck, lk) = scalarClass(at: k)
                if ck != .whitespace { break }
                lastStart = k
                k += lk
            }
            if k < end && lastStart > i { k = lastStart }
            body(i..<k)
            i = k
        }
    }

    /// Whether scalar `v` is one of the letters Oniguruma's case-insensitive `(?i:'s|'t|'m|'d)`
    /// accepts after the apostrophe: s, t, m, d in either case, and U+017F LATIN SMALL LETTER LONG S,
    /// whose case folding is "s" (Hugging Face `tokenizers` matches "'ſ" as a contraction).
    @inline(__always)
    private static func isShortContractionLetter(_ v: UInt32) -> Bool {
        switch v {
        case 0x73, 0x53, 0x74, 0x54, 0x6D, 0x4D, 0x64, 0x44, 0x17F: return true
        default: return false
        }
    }

    /// The ASCII letter `v` lower-cased (other scalars unchanged).
    @inline(__always)
    private static func asciiLower(_ v: UInt32) -> UInt32 { (0x41...0x5A).contains(v) ? v | 0x20 : v }

    @inline(__always)
    private static func isLineBreak(_ v: UInt32) -> Bool { v == 0x0A || v == 0x0D }

    /// Runs the Llama 3 regex over bytes `start..<end` (a hard boundary), trying its seven
    /// alternatives in order at each position as a backtracking engine would:
    /// 1. `(?i:'s|'t|'re|'ve|'m|'ll|'d)`
    /// 2. `[^\r\n\p{L}\p{N}]?\p{L}+`
    /// 3. `\p{N}{1,3}`
    /// 4. ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    /// 5. `\s*[\r\n]+` (the whitespace run up to and including its last CR or LF)
    /// 6. `\s+(?!\S)` and 7. `\s+`, as for GPT-2.
    func llama3Pieces(_ start: Int, _ end: Int, _ body: (Range<Int>) -> Void) {
        var i = start
        while i < end {
            let (v0, l0) = scalar(at: i)
            let c0 = ScalarClass.of(v0)
            let next = i + l0
            // 1. Contractions, case-insensitive.
            if v0 == 0x27, next < end {
                let (v1, l1) = scalar(at: next)
                if Self.isShortContractionLetter(v1) {
                    body(i..<(next + l1))
                    i = next + l1
                    continue
                }
                if next + l1 < end {
                    let (v2, l2) = scalar(at: next + l1)
                    let a = Self.asciiLower(v1), b = Self.asciiLower(v2)
                    if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) {   // re ve ll
                        body(i..<(next + l1 + l2))
                        i = next + l1 + l2
                        continue
                    }
                }
            }
            // 2. An optional scalar that is not CR, LF, a letter or a number, then letters.
            var letterStart = -1
            if c0 == .letter {
                letterStart = i
            } else if c0 != .number && !Self.isLineBreak(v0) && next < end && scalarClass(at: next).0 == .letter {
                letterStart = next
            }
            if letterStart >= 0 {
                var k = letterStart
                while k < end {
                    let (ck, lk) = scalarClass(at: k)
                    if ck != .letter { break }
                    k += lk
                }
                body(i..<k)
                i = k
                continue
            }
            // 3. One to three numbers.
            if c0 == .number {
                var k = next
                var count = 1
                while count < 3 && k < end {
                    let (ck, lk) = scalarClass(at: k)
                    if ck != .number { break }
                    k += lk
                    count += 1
                }
                body(i..<k)
                i = k
                continue
            }
            // 4. An optional space, a run of other scalars, then any CR/LF.
            var otherStart = -1
            if c0 == .other {
                otherStart = i
            } else if v0 == 0x20 && next < end && scalarClass(at: next).0 == .other {
                otherStart = next
            }
            if otherStart >= 0 {
                var k = otherStart
                while k < end {
                    let (ck, lk) = scalarClass(at: k)
                    if ck != .other { break }
                    k += lk
                }
                while k < end && Self.isLineBreak(UInt32(bytes[k])) { k += 1 }
                body(i..<k)
                i = k
                continue
            }
            // 5-7. c0 is whitespace: find the run and the last CR/LF in it.
            var k = i
            var lastStart = i
            var lastBreakEnd = -1
            while k < end {
                let (vk, lk) = scalar(at: k)
                if ScalarClass.of(vk) != .whitespace { break }
                if Self.isLineBreak(vk) { lastBreakEnd = k + lk }
                lastStart = k
                k += lk
            }
            if lastBreakEnd >= 0 {
                k = lastBreakEnd
            } else if k < end && lastStart > i {
                k = lastStart
            }
            body(i..<k)
            i = k
        }
    }
}
