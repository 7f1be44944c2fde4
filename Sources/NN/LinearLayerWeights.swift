/// Where one linear layer of a trainable model keeps its weights: a dense W [out, in], or the
/// factorised pair A [r, in], B [out, r] of `LowRankLinear`, plus an optional bias [out]. The same
/// struct over a gradient store names where the gradients go, so one forward/backward serves both
/// forms (GPT-2 and LLaMA blocks alike).
public struct LinearLayerWeights {
    public let weight: UnsafeMutablePointer<Float>?
    public let a: UnsafeMutablePointer<Float>?
    public let b: UnsafeMutablePointer<Float>?
    public let bias: UnsafeMutablePointer<Float>?
    public let inFeatures: Int
    public let outFeatures: Int
    /// 0 for a dense layer.
    public let rank: Int

    /// A dense layer W [out, in].
    public init(weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?, inFeatures: Int, outFeatures: Int) {
        self.weight = weight; a = nil; b = nil
        self.bias = bias; self.inFeatures = inFeatures; self.outFeatures = outFeatures; rank = 0
    }

    /// A factorised layer B [out, r] A [r, in].
    public init(a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?,
                inFeatures: Int, outFeatures: Int, rank: Int) {
        weight = nil; self.a = a; self.b = b
        self.bias = bias; self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.rank = rank
    }

    public var isLowRank: Bool { rank > 0 }

    /// out[N, out] = layer(inp). A factorised layer writes A x to `hidden` [N, r] (kept for backward).
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, hidden: UnsafeMutablePointer<Float>?, rows n: Int) {
        if let weight {
            Linear.forward(out: out, inp: inp, weight: weight, bias: bias, rows: n, inFeatures: inFeatures, outFeatures: outFeatures)
        } else if let a, let b, let hidden {
            LowRankLinear.forward(out: out, hidden: hidden, inp: inp, weightA: a, weightB: b, bias: bias, rows: n,
                                  inFeatures: inFeatures, rank: rank, outFeatures: outFeatures)
        } else {
            preconditionFailure("a factorised linear layer needs its hidden buffer")
        }
    }

    /// Accumulates d(inp) into `dinp` (when given) and the weight gradients into `grads` (the same
    /// layer over the gradient store); `scratch` holds [N, r] for a factorised layer.
    public func backward(grads: LinearLayerWeights, dinp: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                         inp: UnsafePointer<Float>, hidden: UnsafePointer<Float>?, scratch: UnsafeMutablePointer<Float>, rows n: Int) {
        if let weight {
            Linear.backward(dinp: dinp, dweight: grads.weight, dbias: grads.bias, dout: dout, inp: inp, weight: weight,
                            rows: n, inFeatures: inFeatures, outFeatures: outFeatures)
        } else if let a, let b, let hidden {
            LowRankLinear.backward(dinp: dinp, dweightA: grads.a, dweightB: grads.b, dbias: grads.bias, dhidden: scratch, dout: dout,
                                   inp: inp, hidden: hidden, weightA: a, weightB: b, rows: n, inFeatures: inFeatures, rank: rank,
                                   outFeatures: outFeatures)
        } else {
            preconditionFailure("a factorised linear layer needs its hidden buffer")
        }
    }
}
