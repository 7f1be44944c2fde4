/// Re-encodes float values onto the grid of existing Q4_0, Q4_1 or Q8_0 blocks: each block keeps the
/// stored scale d (and min m for Q4_1) of the matching block of `base`, and only its codes are chosen
/// again. Merging a small update into an already quantized weight this way changes only the codes the
/// update moves, instead of recomputing every block's scale and re-rounding every value, which adds a
/// second quantization error as large as the first.
///
/// Codes are chosen by the decoded grid values themselves (q * d + m as the decoder computes them),
/// so a value that decodes exactly from its base code keeps that code (an unchanged tensor comes
/// back byte for byte). A value between two grid points is rounded by `GridRounding`; one beyond the
/// ends of the grid is clamped to the end code when it is within half a step of it. A block with a
/// value further out (or with a zero or non-finite scale and a changed value) cannot keep its grid
/// and is re-quantized from scratch with the type's reference quantizer; the statistics count such
/// blocks.
public enum BlockGridRequantizer {
    /// The block types whose grid can be kept.
    public static let supportedTypes: [GGMLType] = [.q4_0, .q4_1, .q8_0]

    /// Encodes `values` (a whole number of 32-value blocks) as `type` into `output`, block i on the
    /// grid of block i of `base` (the same number of values, already encoded as `type`). `stream` and
    /// `firstIndex` (the index of `values[0]` in its tensor) feed the stochastic rounding hash.
    public static func requantize(_ values: UnsafeBufferPointer<Float>, type: GGMLType, ontoGridOf base: UnsafeRawBufferPointer,
                                  rounding: GridRounding, stream: UInt64 = 0, firstIndex: Int = 0,
                                  into output: UnsafeMutableRawBufferPointer) throws -> GridRequantizationStatistics {
        guard supportedTypes.contains(type) else { throw QuantizationError.noBlockGrid(type: type) }
        let bytes = try type.checkedByteCount(elements: values.count)
        guard base.count == bytes else {
            throw QuantizationError.byteCountMismatch(type: type, elements: values.count, expected: bytes, actual: base.count)
        }
        guard output.count == bytes else {
            throw QuantizationError.byteCountMismatch(type: type, elements: values.count, expected: bytes, actual: output.count)
        }
        var stats = GridRequantizationStatistics()
        guard !values.isEmpty else { return stats }
        let size = type.typeSize
        var codes = [Int](repeating: 0, count: 32)
        for block in 0..<(values.count / 32) {
            let src = base.baseAddress! + block * size, dst = output.baseAddress! + block * size
            let x = values.baseAddress! + block * 32
            let grid = BlockGrid(type: type, block: src)
            var changed = 0, keepsGrid = true
            for j in 0..<32 {
                let baseCode = grid.code(src, j)
                guard let q = grid.code(for: x[j], baseCode: baseCode, rounding: rounding, stream: stream,
                                        index: UInt64(firstIndex + block * 32 + j)) else {
                    keepsGrid = false
                    break
                }
                codes[j] = q
                if q != baseCode { changed += 1 }
            }
            stats.blocks += 1
            if keepsGrid {
                grid.write(codes, header: src, into: dst)
                stats.gridValues += 32
                stats.changedCodes += changed
            } else {
                try type.quantizeRowReference(x, into: dst, count: 32)
                stats.freshBlocks += 1
            }
        }
        return stats
    }

    /// Decodes `value(q)` exactly as the type's decoder does, for a value's code in a block.
    @inlinable
    public static func gridValue(type: GGMLType, code q: Int, scale d: Float, min m: Float) -> Float {
        switch type {
        case .q4_1: return Float(q) * d + m
        case .q4_0: return Float(q - 8) * d
        default: return Float(q) * d
        }
    }
}
