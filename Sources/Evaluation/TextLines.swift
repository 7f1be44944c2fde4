/// Splits text at line feeds (a `\r` before one is dropped, so CRLF files work), numbering lines
/// from 1. Works on Unicode scalars, so `\r\n` (one `Character`) splits like `\n`.
public enum TextLines {
    public static func split(_ text: String) -> [(number: Int, text: Substring)] {
        var lines: [(number: Int, text: Substring)] = []
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        func emit(_ end: String.Index) {
            var last = end
            if last > start, scalars[scalars.index(before: last)] == "\r" { last = scalars.index(before: last) }
            lines.append((lines.count + 1, Substring(scalars[start..<last])))
        }
        var i = start
        while i != scalars.endIndex {
            let next = scalars.index(after: i)
            if scalars[i] == "\n" { emit(i); start = next }
            i = next
        }
        emit(scalars.endIndex)
        return lines
    }
}
