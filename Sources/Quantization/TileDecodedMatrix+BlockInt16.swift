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

    /// out[N, rows] = x[N, columns] W^T: tiles of 4 panels (64 weight rows) decoded and packed by rows.
    func forwardBlockInt16(_ x: UnsafePointer<Float>, rows n: Int, into out: UnsafeMutablePointer<Float>, isa: KernelISA) {
        let tileRows = 4 * Int(FQ_I16_NR)
        blockInt16Product(x, rows: n, contraction: columns, outputs: rows, tiles: (rows + tileRows - 1) / tileRows,
                          tileFloats: tileRows * columns, into: out, beta: 0, isa: isa) { t, buffer, qb, sb in
            let r0 = t * tileRows, r1 = Swift.min(self.rows, r0 + tileRows)
            self.decodeTile(rows: r0..<r1, columns: 0..<self.columns, into: buffer, isa: isa)
            fq_i16_pack_rows(buffer, Int64(self.columns), Int64(r1 - r0), Int64(self.columns), Int64(r0 / Int(FQ_I16_NR)), qb, sb, isa.code)
        }
    }

    /// dx[N, columns] += dy[N, rows] W: column tiles (whole decode granules, at least 64 columns)
    /// decoded over all rows and packed by columns.
    func backwardBlockInt16(_ dy: UnsafePointer<Float>, rows n: Int, accumulateInto dx: UnsafeMutablePointer<Float>, isa: KernelISA) {
        let tileWidth = Swift.max(64, (64 + columnGranule - 1) / columnGranule * columnGranule)
        blockInt16Product(dy, rows: n, contraction: rows, outputs: columns, tiles: (columns + tileWidth - 1) / tileWidth,
                          tileFloats: rows * tileWidth, into: dx, beta: 1, isa: isa) { t, buffer, qb, sb in
            let c0 = t * tileWidth, c1 = Swift.min(self.columns, c0 + tileWidth)
            self.decodeTile(rows: 0..<self.rows, columns: c0..<c1, into: buffer, isa: isa)
            fq_i16_pack_columns(buffer, Int64(c1 - c0), Int64(self.rows), Int64(c1 - c0), Int64(c0 / Int(FQ_I16_NR)), qb, sb, isa.code)
        }
    }

    /// out[N, outputs] = beta out + a[N, contraction] B for the weight B whose packed panels `packTile`
    /// writes, tile by tile (tiles in parallel, each decoded into a float buffer of `tileFloats`).
    private func blockInt16Product(_ a: UnsafePointer<Float>, rows n: Int, contraction: Int, outputs: Int, tiles: Int, tileFloats: Int,
                                   into out: UnsafeMutablePointer<Float>, beta: Float, isa: KernelISA,
                                   packTile: (Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int16>, UnsafeMutablePointer<Float>) -> Void) {
        let width = Int(FQ_I16_NR), panels = (outputs + width - 1) / width
        let operand = BlockInt16Operand(rows: n, length: contraction)
        BlockInt16Workspace.withBuffers(operandCodes: operand.codeCount, operandScales: operand.scaleCount,
                                        weightCodes: panels * width * contraction, weightScales: panels * width * operand.groups) { space in
            operand.quantize(a, stride: contraction, into: space, isa: isa)
            let (qb, sb) = (space.weightCodes.pointer, space.weightScales.pointer)
            Parallel.forEachChunk(tiles) { range in
                let buffer = AlignedBuffer<Float>(count: tileFloats)
                for t in range { packTile(t, buffer.pointer, qb, sb) }
            }
            operand.multiply(space, columns: outputs, into: out, ldc: outputs, beta: beta, isa: isa)
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
