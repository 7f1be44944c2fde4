import CQuantKernels
import Tensor

/// The batched products of a frozen weight in block-scaled 16-bit integers
/// (`FrozenProductArithmetic.blockInt16`, kernels in `CBlockInt16Kernels.h`). Each product quantizes
/// its float operand once, packs the whole weight once (tiles decoded to float and re-coded to 13-bit
/// groups in parallel; 2 bytes per weight in a reused workspace, never the whole float32 matrix), then
/// splits the rows of the product over threads.
extension TileDecodedMatrix {
    /// Whether the int16 products apply: the setting is on and the contraction is whole groups.
    func usesBlockInt16(contraction: Int) -> Bool {
        tuning.arithmetic == .blockInt16 && contraction > 0 && contraction % Int(FQ_I16_GROUP) == 0
    }

    /// out[N, rows] = x[N, columns] W^T.
    func forwardBlockInt16(_ x: UnsafePointer<Float>, rows n: Int, into out: UnsafeMutablePointer<Float>, isa: KernelISA) {
        let width = Int(FQ_I16_NR), panels = (rows + width - 1) / width
        let operand = BlockInt16Operand(rows: n, length: columns)
        BlockInt16Workspace.withBuffers(operandCodes: operand.codeCount, operandScales: operand.scaleCount,
                                        weightCodes: panels * width * columns, weightScales: panels * width * operand.groups) { space in
            operand.quantize(x, stride: columns, into: space, isa: isa)
            // Tiles of 4 panels (64 weight rows) decoded to float and packed, in parallel.
            let tilePanels = 4, tiles = (panels + tilePanels - 1) / tilePanels
            let (qb, sb) = (space.weightCodes.pointer, space.weightScales.pointer)
            Parallel.forEachChunk(tiles) { range in
                let buffer = AlignedBuffer<Float>(count: tilePanels * width * self.columns)
                for t in range {
                    let r0 = t * tilePanels * width, r1 = Swift.min(self.rows, r0 + tilePanels * width)
                    self.decodeTile(rows: r0..<r1, columns: 0..<self.columns, into: buffer.pointer, isa: isa)
                    fq_i16_pack_rows(buffer.pointer, Int64(self.columns), Int64(r1 - r0), Int64(self.columns),
                                     Int64(t * tilePanels), qb, sb, isa.code)
                }
            }
            operand.multiply(space, columns: rows, into: out, ldc: rows, beta: 0, isa: isa)
        }
    }

    /// dx[N, columns] += dy[N, rows] W.
    func backwardBlockInt16(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>, isa: KernelISA) {
        let width = Int(FQ_I16_NR), panels = (columns + width - 1) / width
        let operand = BlockInt16Operand(rows: n, length: rows)
        BlockInt16Workspace.withBuffers(operandCodes: operand.codeCount, operandScales: operand.scaleCount,
                                        weightCodes: panels * width * rows, weightScales: panels * width * operand.groups) { space in
            operand.quantize(dy, stride: rows, into: space, isa: isa)
            // Column tiles (whole decode granules, at least 64 columns) decoded over all rows and packed.
            let tileWidth = Swift.max(64, (64 + columnGranule - 1) / columnGranule * columnGranule)
            let tiles = (columns + tileWidth - 1) / tileWidth
            let (qb, sb) = (space.weightCodes.pointer, space.weightScales.pointer)
            Parallel.forEachChunk(tiles) { range in
                let buffer = AlignedBuffer<Float>(count: self.rows * tileWidth)
                for t in range {
                    let c0 = t * tileWidth, c1 = Swift.min(self.columns, c0 + tileWidth)
                    self.decodeTile(rows: 0..<self.rows, columns: c0..<c1, into: buffer.pointer, isa: isa)
                    fq_i16_pack_columns(buffer.pointer, Int64(c1 - c0), Int64(self.rows), Int64(c1 - c0),
                                        Int64(c0 / width), qb, sb, isa.code)
                }
            }
            operand.multiply(space, columns: columns, into: dx, ldc: columns, beta: 1, isa: isa)
        }
    }
}

/// The shape of a float operand [rows, length] quantized to 14-bit codes in groups of 64, rows padded
/// with zeros to whole register tiles (`FQ_I16_MR`), and its products with a packed weight.
struct BlockInt16Operand {
    let rows: Int
    let length: Int

    var groups: Int { length / Int(FQ_I16_GROUP) }
    var paddedRows: Int { (rows + Int(FQ_I16_MR) - 1) / Int(FQ_I16_MR) * Int(FQ_I16_MR) }
    var codeCount: Int { paddedRows * length }
    var scaleCount: Int { paddedRows * groups }

    /// Quantizes x [rows, length] (row stride `stride`) into the workspace's operand buffers.
    func quantize(_ x: UnsafePointer<Float>, stride: Int, into space: BlockInt16Workspace, isa: KernelISA) {
        let (codes, scales) = (space.operandCodes.pointer, space.operandScales.pointer)
        (codes + rows * length).update(repeating: 0, count: (paddedRows - rows) * length)
        (scales + rows * groups).update(repeating: 0, count: (paddedRows - rows) * groups)
        let length = length
        Parallel.forEachChunk(rows, minPerThread: 16) { r in
            fq_i16_quantize_rows(x, Int64(stride), Int64(length), Int64(r.lowerBound), Int64(r.upperBound), codes, scales, isa.code)
        }
    }

    /// c[rows, columns] = beta c + this B^T with the workspace's packed weight, rows split over threads in
    /// whole register tiles.
    func multiply(_ space: BlockInt16Workspace, columns: Int, into c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float, isa: KernelISA) {
        let mr = Int(FQ_I16_MR), tiles = paddedRows / mr
        let (qa, sa, qb, sb) = (space.operandCodes.pointer, space.operandScales.pointer, space.weightCodes.pointer, space.weightScales.pointer)
        let (rows, length) = (rows, length)
        Parallel.forEachChunk(tiles) { t in
            fq_i16_gemm(qa, sa, Int64(t.lowerBound * mr), Int64(Swift.min(rows, t.upperBound * mr)),
                        qb, sb, Int64(columns), Int64(length), c, Int64(ldc), beta, isa.code)
        }
    }
}
