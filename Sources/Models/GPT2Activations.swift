import Tensor

/// The activation arena of a GPT-2 model for one batch shape: planned once, reused every step.
///
/// With recomputation, only each block's input is kept for all layers and a single set of block
/// activations is shared (re-filled inside backward); otherwise every layer keeps its own set.
/// A pipeline stage's arena covers only its layers (`layers`); residuals and blocks are indexed by the
/// model's absolute layer number either way.
final class GPT2Activations {
    struct Block {
        let ln1, ln1Mean, ln1Rstd, qkv, atty, att, res2, ln2, ln2Mean, ln2Rstd, fch, fchGelu: UnsafeMutablePointer<Float>
        /// A x of factorised or adapted linear layers [N, r] (nil for plain dense or frozen ones).
        let hAttn, hProj, hFC, hFCProj: UnsafeMutablePointer<Float>?
    }

    let batch: Int, seq: Int
    let recompute: Bool
    let storage: AlignedBuffer<Float>
    /// The blocks this arena holds activations for (all of them outside pipeline parallelism).
    let layers: Range<Int>
    /// residuals[0] is the embedding output; residuals[l+1] is block l's output (for l in `layers`).
    let residuals: LayerSlots<UnsafeMutablePointer<Float>>
    let blocks: [Block]
    let lnf, lnfMean, lnfRstd: UnsafeMutablePointer<Float>
    // backward scratch
    let dres, dln, dqkv, datty, dfch, dgelu, dhidden: UnsafeMutablePointer<Float>
    /// Scratch for the adapter's dropped-out inputs [N, widest input] (1 float when unused).
    let dropped: UnsafeMutablePointer<Float>
    /// [2, C]: where LayerNorm backward puts the scale and shift gradients of a frozen base's norms
    /// (they are computed by the shared kernel and ignored).
    let frozenNormGradients: UnsafeMutablePointer<Float>
    let tokens: UnsafeMutablePointer<Int32>
    let targets: UnsafeMutablePointer<Int32>

    /// `hiddenRanks` gives, per module kind (c_attn, attn.c_proj, c_fc, mlp.c_proj), the widest A x
    /// a layer of that kind keeps (factorised rank or adapter rank; 0 for none); `droppedWidth` is the
    /// widest adapter input that dropout copies (0 without adapter dropout).
    init(config: GPT2Config, batch: Int, seq: Int, recompute: Bool, hiddenRanks ranks: [Int], droppedWidth: Int, layers: Range<Int>? = nil) {
        precondition(ranks.count == 4, "one hidden rank per GPT-2 module kind")
        self.batch = batch
        self.seq = seq
        self.recompute = recompute
        let layers = layers ?? 0..<config.layers
        self.layers = layers
        let c = config.embeddingSize, n = batch * seq, nh = config.heads, l = layers.count
        let blockSizes = [n * c, n, n, 3 * n * c, n * c, batch * nh * seq * seq, n * c, n * c, n, n, 4 * n * c, 4 * n * c]
        let round: (Int) -> Int = { ($0 + 15) / 16 * 16 }
        let widestRank = max(1, ranks.max() ?? 0)
        let perBlock = blockSizes.map(round).reduce(0, +) + ranks.map { round(n * $0) }.reduce(0, +)
        let blockSets = recompute ? 1 : l
        let scratchSizes = [n * c, n, n, n * c, n * c, 3 * n * c, n * c, 4 * n * c, 4 * n * c, n * widestRank, max(1, n * droppedWidth), 2 * c]
        let total = blockSets * perBlock + (l + 1) * round(n * c) + scratchSizes.map(round).reduce(0, +)
        storage = AlignedBuffer<Float>(count: total)
        var cursor = storage.pointer
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { cursor += round(count) }; return cursor }
        var blocks: [Block] = []
        for _ in 0..<blockSets {
            let p = blockSizes.map { take($0) }
            let h = ranks.map { $0 > 0 ? take(n * $0) : nil }
            blocks.append(Block(ln1: p[0], ln1Mean: p[1], ln1Rstd: p[2], qkv: p[3], atty: p[4], att: p[5], res2: p[6],
                                ln2: p[7], ln2Mean: p[8], ln2Rstd: p[9], fch: p[10], fchGelu: p[11],
                                hAttn: h[0], hProj: h[1], hFC: h[2], hFCProj: h[3]))
        }
        self.blocks = blocks
        residuals = LayerSlots(first: layers.lowerBound, items: (0...l).map { _ in take(n * c) })
        lnf = take(n * c); lnfMean = take(n); lnfRstd = take(n)
        dres = take(n * c); dln = take(n * c); dqkv = take(3 * n * c); datty = take(n * c)
        dfch = take(4 * n * c); dgelu = take(4 * n * c); dhidden = take(n * widestRank)
        dropped = take(max(1, n * droppedWidth))
        frozenNormGradients = take(2 * c)
        precondition(cursor <= storage.pointer + total, "GPT-2 activation plan overflows its arena")
        tokens = .allocate(capacity: n)
        targets = .allocate(capacity: n)
    }

    deinit {
        tokens.deallocate()
        targets.deallocate()
    }

    func block(_ layer: Int) -> Block { recompute ? blocks[0] : blocks[layer - layers.lowerBound] }

    var bytes: Int { storage.byteCount }
}
