/// The character classes the pre-tokenizer regexes distinguish: `\p{L}`, `\p{N}`, `\s` and
/// everything else.
enum ScalarClass: UInt8 {
    case letter
    case number
    case whitespace
    case other

    /// Classes of the 128 ASCII scalars.
    static let ascii: [ScalarClass] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }

    /// The class of `scalar`: letters are general categories Lu, Ll, Lt, Lm, Lo; numbers Nd, Nl, No;
    /// whitespace is the Unicode White_Space property (what `\s` matches in Oniguruma and PCRE2 with
    /// Unicode), so U+00A0 and U+3000 are whitespace too.
    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let p = scalar.properties
        if p.isWhitespace { return .whitespace }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    @inline(__always)
    static func of(_ value: UInt32) -> ScalarClass {
        if value < 128 { return ascii[Int(value)] }
        return classify(Unicode.Scalar(value)!)
    }
}
