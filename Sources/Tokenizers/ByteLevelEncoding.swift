/// The GPT-2 byte-level alphabet: a bijection between the 256 byte values and 256 printable
/// Unicode scalars, so that any byte string can be written as visible text in a vocabulary.
///
/// Printable ASCII (`!`...`~`) and the printable Latin-1 ranges (`¡`...`¬`, `®`...`ÿ`) keep their
/// own code point; the remaining 68 bytes map in increasing order to U+0100, U+0101, ... (so a space,
/// byte 0x20, is `Ġ` U+0120 and a newline is `Ċ` U+010A).
public enum ByteLevelEncoding {
    /// `byteToScalar[b]` is the scalar that stands for byte `b`.
    public static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if keepsOwnCodePoint(UInt8(b)) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Inverse table indexed by scalar value (all mapped scalars are below U+0144); -1 = unmapped.
    private static let scalarToByteTable: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in byteToScalar.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    /// Whether byte `b` is represented by the scalar with the same value.
    public static func keepsOwnCodePoint(_ b: UInt8) -> Bool {
        (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
    }

    /// The byte a scalar stands for, or nil when the scalar is not in the alphabet.
    @inline(__always)
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < scalarToByteTable.count else { return nil }
        let b = scalarToByteTable[v]
        return b < 0 ? nil : UInt8(b)
    }

    /// Encodes raw bytes as byte-level text (e.g. the bytes of " hello" become "Ġhello").
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// Decodes byte-level text back to raw bytes; nil if a scalar is outside the alphabet.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            guard let b = byte(for: s) else { return nil }
            out.append(b)
        }
        return out
    }
}
