/// Encodes text with a `BPETokenizer`, caching the ids of every distinct pre-token it has seen.
///
/// Not thread-safe: give each thread its own (see `BPETokenizer.makeEncoder()`).
public struct BPEEncoder {
    /// The tokenizer this encoder uses.
    public let tokenizer: BPETokenizer
    private var cache: [String: [Int32]] = [:]
    /// Reused buffer for text segments that get a prefix space.
    private var prefixed: [UInt8] = []
    /// Entries kept before the cache is cleared (bounds memory on unbounded input).
    public var cacheLimit = 1 << 20

    init(tokenizer: BPETokenizer) {
        self.tokenizer = tokenizer
    }

    /// Number of cached pre-tokens.
    public var cachedWordCount: Int { cache.count }

    /// Encodes `text`; see `BPETokenizer.encode(_:allowSpecial:addBOS:)`.
    public mutating func encode(_ text: String, allowSpecial: Bool = true, addBOS: Bool? = nil) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 2)
        if addBOS ?? tokenizer.addBOS, let bos = tokenizer.bosID { out.append(bos) }
        var copy = text
        copy.withUTF8 { buf in appendTokens(of: buf, allowSpecial: allowSpecial, to: &out) }
        return out
    }

    /// Appends the ids of the UTF-8 text in `utf8` (which must be valid UTF-8) to `out`.
    public mutating func appendTokens(of utf8: UnsafeBufferPointer<UInt8>, allowSpecial: Bool, to out: inout [Int32]) {
        tokenizer.specials.split(utf8, allowControl: allowSpecial, text: { range in
            let segment = UnsafeBufferPointer(rebasing: utf8[range])
            if tokenizer.addPrefixSpace && segment.first != 0x20 {
                // Hugging Face's ByteLevel(add_prefix_space) prepends one space to each stretch of
                // text between special tokens that does not already start with one.
                var buffer = prefixed
                prefixed = []
                buffer.removeAll(keepingCapacity: true)
                buffer.append(0x20)
                buffer.append(contentsOf: segment)
                buffer.withUnsafeBufferPointer { appendPieces(of: $0, to: &out) }
                prefixed = buffer
            } else {
                appendPieces(of: segment, to: &out)
            }
        }, special: { id in out.append(id) })
    }

    private mutating func appendPieces(of segment: UnsafeBufferPointer<UInt8>, to out: inout [Int32]) {
        tokenizer.preTokenizer.forEachPiece(in: segment) { piece in
            appendWord(UnsafeBufferPointer(rebasing: segment[piece]), to: &out)
        }
    }

    private mutating func appendWord(_ word: UnsafeBufferPointer<UInt8>, to out: inout [Int32]) {
        if word.count == 1 {
            let id = tokenizer.byteTokenIDs[Int(word[0])]
            if id >= 0 { out.append(id) }   // bytes without a token are dropped
            return
        }
        let key = String(decoding: word, as: UTF8.self)
        if let ids = cache[key] {
            out.append(contentsOf: ids)
            return
        }
        let ids: [Int32]
        if tokenizer.ignoreMerges, let id = tokenizer.tokenToID[ByteLevelEncoding.encode(word)],
           !tokenizer.tokenTypes[Int(id)].isSpecial {
            ids = [id]   // the whole pre-token is a vocabulary entry: no merging (Hugging Face ignore_merges)
        } else {
            ids = BPEMerger.merge(word, tokenizer: tokenizer)
        }
        if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[key] = ids
        out.append(contentsOf: ids)
    }
}
