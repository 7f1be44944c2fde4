import Tensor

/// The activation arena of a LLaMA model for one batch shape (see GPT2Activations).
final class LlamaActivations {
    struct Block {
        let ln1, rstd1, q, k, v, atty, att, res2, ln2, rstd2, gate, up, act: UnsafeMutablePointer<Float>
        /// A x of factorised linear layers [N, r] (nil for dense ones).
        let hq, hk, hv, ho, hgate, hup, hdown: UnsafeMutablePointer<Float>?
    }

    let batch: Int, seq: Int
    let recompute: Bool
    let storage: AlignedBuffer<Float>
    /// The blocks this arena holds activations for (all of them outside pipeline parallelism).
    let layers: Range<Int>
    /// residuals[l] is block l's input, residuals[l+1] its output (for l in `layers`).
    let residuals: LayerSlots<UnsafeMutablePointer<Float>>
    let blocks: [Block]
    let lnf, rstdf: UnsafeMutablePointer<Float>
    let dres, dln, dq, dk, dv, datty, dgate, dup, dact, dhidden: UnsafeMutablePointer<Float>
    /// Scratch for the adapter's dropped-out inputs [N, widest input] (1 float when unused).
    let dropped: UnsafeMutablePointer<Float>
    let tokens: UnsafeMutablePointer<Int32>
    let targets: UnsafeMutablePointer<Int32>

    init(config cfg: LlamaConfig, batch: Int, seq: Int, recompute: Bool, hiddenRanks ranks: [Int], droppedWidth: Int,
         layers: Range<Int>? = nil) {
        self.batch = batch
        self.seq = seq
        self.recompute = recompute
        let layers = layers ?? 0..<cfg.layers
        self.layers = layers
        let n = batch * seq, c = cfg.hiddenSize, qd = cfg.qDim, kd = cfg.kvDim, im = cfg.intermediateSize
        let blockSizes = [n * c, n, n * qd, n * kd, n * kd, n * qd, batch * cfg.heads * seq * seq, n * c, n * c, n, n * im, n * im, n * im]
        let round: (Int) -> Int = { ($0 + 15) / 16 * 16 }
        // factorised or adapted layers keep A x [N, r]; `ranks` gives the widest per module kind
        let perBlock = blockSizes.map(round).reduce(0, +) + ranks.map { round(n * $0) }.reduce(0, +)
        let scratch = [n * c, n * c, n * qd, n * kd, n * kd, n * qd, n * im, n * im, n * im, n * c, n, n * max(1, ranks.max() ?? 0),
                       max(1, n * droppedWidth)]
            .map(round).reduce(0, +)
        let sets = recompute ? 1 : layers.count
        storage = AlignedBuffer<Float>(count: sets * perBlock + (layers.count + 1) * round(n * c) + scratch)
        var cursor = storage.pointer
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { cursor += round(count) }; return cursor }
        var blocks: [Block] = []
        for _ in 0..<sets {
            let p = blockSizes.map { take($0) }
            let h = ranks.map { $0 > 0 ? take(n * $0) : nil }
            blocks.append(Block(ln1: p[0], rstd1: p[1], q: p[2], k: p[3], v: p[4], atty: p[5], att: p[6], res2: p[7], ln2: p[8],
                                rstd2: p[9], gate: p[10], up: p[11], act: p[12],
                                hq: h[0], hk: h[1], hv: h[2], ho: h[3], hgate: h[4], hup: h[5], hdown: h[6]))
        }
        self.blocks = blocks
        residuals = LayerSlots(first: layers.lowerBound, items: (0...layers.count).map { _ in take(n * c) })
        lnf = take(n * c); rstdf = take(n)
        dres = take(n * c); dln = take(n * c); dq = take(n * qd); dk = take(n * kd); dv = take(n * kd); datty = take(n * qd)
        dgate = take(n * im); dup = take(n * im); dact = take(n * im); dhidden = take(n * max(1, ranks.max() ?? 0))
        dropped = take(max(1, n * droppedWidth))
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
