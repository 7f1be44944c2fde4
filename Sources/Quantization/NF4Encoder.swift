import Tensor

/// The NF4 quantizer (bitsandbytes' scheme, see `NF4Matrix`): 4-bit codes per block of 64 values and
/// the 8-bit double quantization of the block scales.
enum NF4Encoder {
    /// The double-quantized block scales.
    struct Scales {
        let codes: AlignedBuffer<UInt8>
        let groupScales: AlignedBuffer<Float>
        let offset: Float
    }

    /// Encodes every block of 64 values of a [rows, columns] matrix: absmax[b] = max |w| over the
    /// block, code = nearest level of w * (1 / absmax) clamped to [-1, 1] (ties to the lower level).
    /// Rows are encoded in parallel. Throws on a non-finite weight, naming its position.
    static func encodeBlocks(_ w: UnsafePointer<Float>, rows: Int, columns: Int, packed: UnsafeMutablePointer<UInt8>,
                             absmax: UnsafeMutablePointer<Float>) throws {
        let blocksPerRow = columns / NF4Matrix.blockSize
        let bad = firstNonFinite(w, rows: rows, columns: columns)
        if let (r, c) = bad {
            throw QuantizationError.shapeMismatch("NF4 weights must be finite, got \(w[r * columns + c]) at row \(r), column \(c)")
        }
        NF4Codebook.levelMidpoints.withUnsafeBufferPointer { mids in
            Parallel.forEachChunk(rows, minPerThread: max(1, 16384 / max(columns, 1))) { range in
                for r in range {
                    for j in 0..<blocksPerRow {
                        let b = r * blocksPerRow + j
                        absmax[b] = encodeBlock(w + b * NF4Matrix.blockSize, into: packed + b * NF4Matrix.blockSize / 2, midpoints: mids)
                    }
                }
            }
        }
    }

    /// Encodes 64 values into 32 bytes and returns their absmax.
    @inline(__always)
    static func encodeBlock(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<UInt8>, midpoints: UnsafeBufferPointer<Float>) -> Float {
        var a: Float = 0
        for i in 0..<NF4Matrix.blockSize { a = max(a, abs(x[i])) }
        let recip = 1 / max(a, 1e-38)
        for k in 0..<(NF4Matrix.blockSize / 2) {
            let hi = NF4Codebook.nearestIndex(clamp(x[2 * k] * recip), midpoints: midpoints)
            let lo = NF4Codebook.nearestIndex(clamp(x[2 * k + 1] * recip), midpoints: midpoints)
            out[k] = UInt8(hi << 4 | lo)
        }
        return a
    }

    /// Double quantization: offset = mean(absmax) (accumulated in double, rounded to float), and
    /// absmax - offset in groups of 256 as 8-bit codes of the dynamic map relative to the group absmax.
    static func doubleQuantize(_ absmax: UnsafeBufferPointer<Float>) -> Scales {
        let count = absmax.count
        let groups = (count + NF4Matrix.scaleGroupSize - 1) / NF4Matrix.scaleGroupSize
        let codes = AlignedBuffer<UInt8>(count: count)
        let groupScales = AlignedBuffer<Float>(count: groups)
        var sum = 0.0
        for a in absmax { sum += Double(a) }
        let offset = count == 0 ? 0 : Float(sum / Double(count))
        NF4Codebook.dynamicMapMidpoints.withUnsafeBufferPointer { mids in
            for g in 0..<groups {
                let range = (g * NF4Matrix.scaleGroupSize)..<min(count, (g + 1) * NF4Matrix.scaleGroupSize)
                var a: Float = 0
                for b in range { a = max(a, abs(absmax[b] - offset)) }
                groupScales[g] = a
                let recip = 1 / max(a, 1e-38)
                for b in range { codes[b] = UInt8(NF4Codebook.nearestIndex(clamp((absmax[b] - offset) * recip), midpoints: mids)) }
            }
        }
        return Scales(codes: codes, groupScales: groupScales, offset: offset)
    }

    @inline(__always)
    static func clamp(_ x: Float) -> Float { min(max(x, -1), 1) }

    /// The first (row, column) holding NaN or an infinity, if any.
    static func firstNonFinite(_ w: UnsafePointer<Float>, rows: Int, columns: Int) -> (Int, Int)? {
        for i in 0..<(rows * columns) where !w[i].isFinite { return (i / columns, i % columns) }
        return nil
    }
}
