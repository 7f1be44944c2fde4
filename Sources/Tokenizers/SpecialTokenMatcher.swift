/// Finds special tokens (control and user-defined) in UTF-8 text, leftmost first and, among those
/// starting at the same place, longest first.
struct SpecialTokenMatcher: Sendable {
    struct Candidate: Sendable {
        let bytes: [UInt8]
        let id: Int32
        let isControl: Bool
    }

    /// Candidates by first byte, longest first.
    private var byFirstByte: [[Candidate]] = Array(repeating: [], count: 256)
    private(set) var isEmpty = true

    init(tokens: [String], types: [TokenType]) {
        for (i, t) in tokens.enumerated() where types[i].isSpecial && !t.isEmpty {
            let bytes = Array(t.utf8)
            byFirstByte[Int(bytes[0])].append(Candidate(bytes: bytes, id: Int32(i), isControl: types[i] == .control))
            isEmpty = false
        }
        for b in 0..<256 { byFirstByte[b].sort { $0.bytes.count > $1.bytes.count } }
    }

    /// Splits `utf8` into plain-text ranges and special-token ids, calling `text` and `special` in
    /// order. Control tokens are matched only when `allowControl` is true.
    func split(_ utf8: UnsafeBufferPointer<UInt8>, allowControl: Bool,
               text: (Range<Int>) -> Void, special: (Int32) -> Void) {
        if isEmpty {
            if !utf8.isEmpty { text(0..<utf8.count) }
            return
        }
        var segmentStart = 0
        var i = 0
        let n = utf8.count
        while i < n {
            let list = byFirstByte[Int(utf8[i])]
            var matched: Candidate? = nil
            if !list.isEmpty {
                for c in list where (allowControl || !c.isControl) && c.bytes.count <= n - i {
                    var ok = true
                    for k in 1..<c.bytes.count where utf8[i + k] != c.bytes[k] { ok = false; break }
                    if ok { matched = c; break }
                }
            }
            if let m = matched {
                if segmentStart < i { text(segmentStart..<i) }
                special(m.id)
                i += m.bytes.count
                segmentStart = i
            } else {
                i += 1
            }
        }
        if segmentStart < n { text(segmentStart..<n) }
    }
}
