/// Splits a plain-text corpus into documents separated by lines holding only `<|endoftext|>`.
public enum CorpusDocuments {
    /// The separator line's text.
    public static let separator = "<|endoftext|>"

    /// Byte ranges of the non-blank documents in `bytes`. The newline that ends a document's last
    /// line (before a separator or at the end of the file) is not part of the document; a `\r`
    /// before the newline of a separator line is tolerated.
    public static func ranges(in bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        let sep = Array(separator.utf8)
        let n = bytes.count
        var out: [Range<Int>] = []
        var docStart = 0
        var lineStart = 0

        func close(_ end: Int) {
            var e = end
            if e > docStart && bytes[e - 1] == 0x0A { e -= 1 }
            if e > docStart && bytes[e - 1] == 0x0D { e -= 1 }
            if !isBlank(bytes, docStart..<e) { out.append(docStart..<e) }
        }

        while lineStart < n {
            var lineEnd = lineStart
            while lineEnd < n && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if contentEnd - lineStart == sep.count && (0..<sep.count).allSatisfy({ bytes[lineStart + $0] == sep[$0] }) {
                close(lineStart)
                docStart = min(lineEnd + 1, n)
            }
            lineStart = lineEnd + 1
        }
        if docStart < n { close(n) }
        return out
    }

    private static func isBlank(_ bytes: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        for i in r {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C: continue
            default: return false
            }
        }
        return true
    }
}
