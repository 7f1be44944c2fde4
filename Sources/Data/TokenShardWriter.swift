import Foundation
import IO

/// Writes llm.c token shards atomically (temporary file in the same folder, then rename).
public enum TokenShardWriter {
    /// Largest token count a shard header (an int32) can record.
    public static let maxTokens = Int(Int32.max)

    /// Writes `tokens` to `path` in `format`. Every token must fit the format (0...65535 for
    /// uint16, non-negative for uint32); otherwise nothing is written and `tokenOutOfRange` names
    /// the first offender.
    public static func write(_ tokens: [Int32], to path: String, format: TokenShardFormat) throws {
        try tokens.withUnsafeBufferPointer { try write($0, to: path, format: format) }
    }

    /// Writes the tokens in `tokens` to `path` in `format`.
    public static func write(_ tokens: UnsafeBufferPointer<Int32>, to path: String, format: TokenShardFormat) throws {
        guard tokens.count <= maxTokens else {
            throw DataError.invalidArgument("\(path): \(tokens.count) tokens exceed the shard limit of \(maxTokens)")
        }
        for (i, t) in tokens.enumerated() where t < 0 || Int64(t) > format.maxToken {
            throw DataError.tokenOutOfRange(file: path, index: i, value: t, format: format.rawValue)
        }
        var header = Data(count: TokenShard.headerBytes)
        header.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: format.magic.littleEndian, toByteOffset: 0, as: Int32.self)
            raw.storeBytes(of: format.version.littleEndian, toByteOffset: 4, as: Int32.self)
            raw.storeBytes(of: Int32(tokens.count).littleEndian, toByteOffset: 8, as: Int32.self)
        }
        try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: header)
            let chunk = 1 << 20
            var start = 0
            while start < tokens.count {
                let end = min(start + chunk, tokens.count)
                var data = Data(count: (end - start) * format.bytesPerToken)
                data.withUnsafeMutableBytes { raw in
                    switch format {
                    case .uint16:
                        for k in start..<end { raw.storeBytes(of: UInt16(truncatingIfNeeded: tokens[k]).littleEndian, toByteOffset: 2 * (k - start), as: UInt16.self) }
                    case .uint32:
                        for k in start..<end { raw.storeBytes(of: UInt32(bitPattern: tokens[k]).littleEndian, toByteOffset: 4 * (k - start), as: UInt32.self) }
                    }
                }
                try handle.write(contentsOf: data)
                start = end
            }
        }
    }
}
