/// The two llm.c token shard layouts: a 256 x int32 header (magic, version, token count, zeros)
/// followed by the tokens as little-endian uint16 or uint32.
public enum TokenShardFormat: String, Codable, Sendable, CaseIterable {
    /// Magic 20240520, version 1: uint16 tokens (vocabularies up to 65,536 entries).
    case uint16
    /// Magic 20240801, version 7: uint32 tokens.
    case uint32

    public var magic: Int32 { self == .uint16 ? 20240520 : 20240801 }
    public var version: Int32 { self == .uint16 ? 1 : 7 }
    public var bytesPerToken: Int { self == .uint16 ? 2 : 4 }
    /// The largest token id the format can store.
    public var maxToken: Int64 { self == .uint16 ? Int64(UInt16.max) : Int64(Int32.max) }

    /// The format for magic `magic`, if known.
    public init?(magic: Int32) {
        switch magic {
        case 20240520: self = .uint16
        case 20240801: self = .uint32
        default: return nil
        }
    }

    /// uint16 when every id of a vocabulary of `size` entries fits, else uint32.
    public static func forVocabulary(size: Int) -> TokenShardFormat {
        size <= 65536 ? .uint16 : .uint32
    }
}
