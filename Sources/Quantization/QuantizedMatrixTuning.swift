/// Blocking and threading choices of `QuantizedMatrix`'s products (defaults measured on a 2-core
/// Zen 3 with OpenBLAS; see the report in the quantization tests' benchmark).
public struct QuantizedMatrixTuning: Sendable, Equatable {
    /// Batches of at most this many rows run as repeated matrix-vector products; larger ones
    /// dequantize tiles of the weight and call sgemm.
    public var gemvMaxBatch: Int
    /// Float budget of one dequantized weight tile (per thread) in the forward product; the tile
    /// height is this divided by the row length, clamped to [16, 512] and rounded to 16.
    public var forwardTileFloats: Int
    /// Whether forward tiles run in parallel (OpenBLAS single-threaded inside) instead of one after
    /// another with a multi-threaded OpenBLAS.
    public var parallelTiles: Bool
    /// Width of a column tile in the input-gradient product (rounded up to whole blocks).
    public var backwardTileColumns: Int
    /// Weight rows dequantized at once per column tile in the input-gradient product.
    public var backwardRowChunk: Int
    /// Minimum number of weight values per thread before a matrix-vector product is split over threads.
    public var gemvMinValuesPerThread: Int
    /// Arithmetic of the batched products (forward and input gradient) above `gemvMaxBatch` rows.
    public var arithmetic: FrozenProductArithmetic

    public init(gemvMaxBatch: Int = 8, forwardTileFloats: Int = 256 * 1024, parallelTiles: Bool = true,
                backwardTileColumns: Int = 128, backwardRowChunk: Int = 512, gemvMinValuesPerThread: Int = 32 * 1024,
                arithmetic: FrozenProductArithmetic = .float32) {
        self.gemvMaxBatch = gemvMaxBatch
        self.forwardTileFloats = forwardTileFloats
        self.parallelTiles = parallelTiles
        self.backwardTileColumns = backwardTileColumns
        self.backwardRowChunk = backwardRowChunk
        self.gemvMinValuesPerThread = gemvMinValuesPerThread
        self.arithmetic = arithmetic
    }

    /// These settings with the products in `arithmetic`.
    public func with(arithmetic: FrozenProductArithmetic) -> QuantizedMatrixTuning {
        var t = self
        t.arithmetic = arithmetic
        return t
    }

    /// The measured defaults.
    public static let `default` = QuantizedMatrixTuning()

    /// Tile height for a [rows, columns] matrix: about `forwardTileFloats / columns` (clamped to
    /// [16, 512]), adjusted so that the number of tiles is a multiple of `threads` and tiles are even.
    func forwardTileRows(rows: Int, columns: Int, threads: Int) -> Int {
        let target = max(16, min(512, forwardTileFloats / max(columns, 1) / 16 * 16))
        let tiles = roundUp((rows + target - 1) / target, to: threads)
        return max(1, roundUp((rows + tiles - 1) / tiles, to: 16))
    }

    /// Column-tile width for the input-gradient product: about `backwardTileColumns`, whole blocks,
    /// with a number of tiles that is a multiple of `threads`.
    func backwardTileWidth(columns: Int, blockSize: Int, threads: Int) -> Int {
        let target = max(blockSize, backwardTileColumns)
        let tiles = roundUp((columns + target - 1) / target, to: threads)
        return max(blockSize, roundUp((columns + tiles - 1) / tiles, to: blockSize))
    }

    private func roundUp(_ x: Int, to m: Int) -> Int { (x + m - 1) / max(m, 1) * max(m, 1) }
}
