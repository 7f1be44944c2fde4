import NN
import Tensor

/// One linear module of a transformer block (LLaMA or GPT-2) as the trainable model sees it: trainable weights (dense or
/// factorised, with their gradients), or a frozen map (float32 or quantized) with an optional LoRA
/// adapter y = W x + scaling * B (A dropout(x)) whose factors are the trainable part.
struct BlockLinearLayer {
    struct LoRA {
        let a, b, gradA, gradB: UnsafeMutablePointer<Float>
        let rank: Int
        let scaling: Float
        let dropout: Float
        /// Seed of this module's dropout mask for the current pass; nil when dropout is off.
        let dropoutSeed: UInt64?
    }

    let trainable: LinearLayerWeights?
    let grads: LinearLayerWeights?
    let frozen: LinearMap?
    let lora: LoRA?
    let inFeatures: Int
    let outFeatures: Int

    init(trainable: LinearLayerWeights, grads: LinearLayerWeights) {
        self.trainable = trainable; self.grads = grads; frozen = nil; lora = nil
        inFeatures = trainable.inFeatures; outFeatures = trainable.outFeatures
    }

    init(frozen: LinearMap, lora: LoRA?) {
        trainable = nil; grads = nil; self.frozen = frozen; self.lora = lora
        inFeatures = frozen.inFeatures; outFeatures = frozen.outFeatures
    }

    /// The input the adapter sees: `inp`, or its dropped-out copy written to `dropped` [N, in].
    func adapterInput(_ l: LoRA, inp: UnsafePointer<Float>, dropped: UnsafeMutablePointer<Float>, rows n: Int) -> UnsafePointer<Float> {
        guard let seed = l.dropoutSeed else { return inp }
        HashedDropout.forward(out: dropped, inp: inp, count: n * inFeatures, rate: l.dropout, seed: seed)
        return UnsafePointer(dropped)
    }

    /// out[N, out] = layer(inp); `hidden` [N, r] keeps A x (factorised or adapted layers).
    func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, hidden: UnsafeMutablePointer<Float>?,
                 dropped: UnsafeMutablePointer<Float>, rows n: Int) {
        if let trainable { trainable.forward(out: out, inp: inp, hidden: hidden, rows: n); return }
        frozen!.forward(inp, rows: n, into: out)
        guard let l = lora, let hidden else { return }
        adapterHidden(l, inp: inp, hidden: hidden, dropped: dropped, rows: n)
        BLAS.gemm(transB: true, m: n, n: outFeatures, k: l.rank, alpha: l.scaling, a: hidden, b: l.b, beta: 1, c: out)
    }

    /// hidden[N, r] = A dropout(inp), the adapter's first product.
    func adapterHidden(_ l: LoRA, inp: UnsafePointer<Float>, hidden: UnsafeMutablePointer<Float>, dropped: UnsafeMutablePointer<Float>, rows n: Int) {
        let x = adapterInput(l, inp: inp, dropped: dropped, rows: n)
        BLAS.gemm(transB: true, m: n, n: l.rank, k: inFeatures, a: x, b: l.a, c: hidden)
    }

    /// What `backward` needs of this layer's forward pass without its output (used when a block is
    /// recomputed and the output is not needed again): A x of a factorised layer, A dropout(x) of an
    /// adapter; nothing for a dense or plain frozen layer.
    func forwardForBackward(inp: UnsafePointer<Float>, hidden: UnsafeMutablePointer<Float>?, dropped: UnsafeMutablePointer<Float>, rows n: Int) {
        guard let hidden else { return }
        if let trainable {
            if let a = trainable.a { BLAS.gemm(transB: true, m: n, n: trainable.rank, k: inFeatures, a: inp, b: a, c: hidden) }
            return
        }
        if let l = lora { adapterHidden(l, inp: inp, hidden: hidden, dropped: dropped, rows: n) }
    }

    /// Accumulates d(inp) into `dinp` and the trainable gradients; `scratch` holds [N, r], `dropped` [N, in].
    func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, hidden: UnsafePointer<Float>?,
                  scratch: UnsafeMutablePointer<Float>, dropped: UnsafeMutablePointer<Float>, rows n: Int) {
        if let trainable, let grads {
            trainable.backward(grads: grads, dinp: dinp, dout: dout, inp: inp, hidden: hidden, scratch: scratch, rows: n)
            return
        }
        frozen!.backwardInput(dout, rows: n, accumulateInto: dinp)
        guard let l = lora, let hidden else { return }
        let r = l.rank
        // dB += s dout^T h;  dh = s dout B;  dA += dh^T x';  dinp += dropout'(dh A)
        BLAS.gemm(transA: true, m: outFeatures, n: r, k: n, alpha: l.scaling, a: dout, b: hidden, beta: 1, c: l.gradB)
        BLAS.gemm(m: n, n: r, k: outFeatures, alpha: l.scaling, a: dout, b: l.b, beta: 0, c: scratch)
        let x = adapterInput(l, inp: inp, dropped: dropped, rows: n)
        BLAS.gemm(transA: true, m: r, n: inFeatures, k: n, a: scratch, b: x, beta: 1, c: l.gradA)
        if let seed = l.dropoutSeed {
            BLAS.gemm(m: n, n: inFeatures, k: r, a: scratch, b: l.a, beta: 0, c: dropped)
            HashedDropout.backwardAccumulate(dinp: dinp, dout: dropped, count: n * inFeatures, rate: l.dropout, seed: seed)
        } else {
            BLAS.gemm(m: n, n: inFeatures, k: r, a: scratch, b: l.a, beta: 1, c: dinp)
        }
    }
}

extension BlockLinearLayer {
    /// The frozen `map` of `module` for a pass, with `adapter`'s factors when the adapter covers the
    /// module. While training with dropout, the module's mask is seeded from `stochasticSeed` and
    /// `dropoutSlot` (a number unique to the module within the model), so masks differ between
    /// modules and steps yet repeat under recomputation and on resume.
    static func adapted(_ map: LinearMap, module: String, adapter: LoRAAdapter?, parameters: ParameterStore,
                        gradients: ParameterStore, training: Bool, stochasticSeed: UInt64, dropoutSlot: Int) -> BlockLinearLayer {
        guard let adapter, let m = adapter.module(named: module) else { return BlockLinearLayer(frozen: map, lora: nil) }
        let c = adapter.config
        let seed: UInt64? = training && c.dropout > 0
            ? stochasticSeed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(dropoutSlot) &* 0xD1B5_4A32_D192_ED03 : nil
        let lora = LoRA(a: parameters.pointer(m.aName), b: parameters.pointer(m.bName), gradA: gradients.pointer(m.aName),
                        gradB: gradients.pointer(m.bName), rank: c.rank, scaling: c.scaling, dropout: c.dropout, dropoutSeed: seed)
        return BlockLinearLayer(frozen: map, lora: lora)
    }
}
