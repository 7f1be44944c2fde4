import Tensor

/// A rank-r factorised affine map y = B (A x) + b, the low-rank replacement of `Linear`'s W [out, in]
/// (FinGPT-HPC's low-rank pretraining): A [r, in] projects down, B [out, r] projects back up, and the
/// bias stays on the output. With PEFT's naming A is `lora_A` and B is `lora_B`.
///
/// Row-major throughout, x [N, in] as in `Linear`:
///
///     hidden = x A^T          [N, r]   (kept by the caller for backward)
///     out    = hidden B^T + b [N, out]
///
/// The factorisation stores r (in + out) numbers instead of in * out and costs 2 N r (in + out) flops
/// instead of 2 N in out, so it saves both once r < `breakEvenRank(inFeatures:outFeatures:)`.
public enum LowRankLinear {
    /// Forward pass. Writes `hidden` (needed by `backward`) and `out`.
    /// - shapes: inp [N,C], weightA [R,C], weightB [OC,R], bias [OC] or nil, hidden [N,R], out [N,OC]
    public static func forward(out: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                               inp: UnsafePointer<Float>, weightA: UnsafePointer<Float>, weightB: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, rows n: Int, inFeatures c: Int, rank r: Int, outFeatures oc: Int) {
        // hidden[N,R] = inp[N,C] A^T
        BLAS.gemm(transB: true, m: n, n: r, k: c, a: inp, b: weightA, c: hidden)
        // out[N,OC] = hidden[N,R] B^T (+ bias)
        Linear.forward(out: out, inp: hidden, weight: weightB, bias: bias, rows: n, inFeatures: r, outFeatures: oc)
    }

    /// Backward pass; accumulates (+=) into every gradient given, any of which may be nil to skip it:
    ///
    ///     dB    += dout^T hidden      [OC,R]
    ///     dh     = dout B             [N,R]   (written to `dhidden`, scratch, only when dinp or dA is wanted)
    ///     dA    += dh^T inp           [R,C]
    ///     dinp  += dh A               [N,C]
    ///     dbias += column sums of dout [OC]
    ///
    /// - shapes: dout [N,OC], inp [N,C], hidden [N,R] (from forward), weightA [R,C], weightB [OC,R],
    ///   dinp [N,C], dweightA [R,C], dweightB [OC,R], dbias [OC], dhidden [N,R] (scratch, overwritten)
    public static func backward(dinp: UnsafeMutablePointer<Float>?, dweightA: UnsafeMutablePointer<Float>?,
                                dweightB: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                                dhidden: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, hidden: UnsafePointer<Float>,
                                weightA: UnsafePointer<Float>, weightB: UnsafePointer<Float>,
                                rows n: Int, inFeatures c: Int, rank r: Int, outFeatures oc: Int) {
        // The up-projection is an ordinary Linear on `hidden`: dh = dout B, dB += dout^T hidden, dbias.
        let needHidden = dinp != nil || dweightA != nil
        if needHidden {
            BLAS.gemm(m: n, n: r, k: oc, a: dout, b: weightB, beta: 0, c: dhidden)
        }
        Linear.backward(dinp: nil, dweight: dweightB, dbias: dbias, dout: dout, inp: hidden, weight: weightB,
                        rows: n, inFeatures: r, outFeatures: oc)
        guard needHidden else { return }
        // The down-projection is a bias-free Linear on `inp` with weight A.
        Linear.backward(dinp: dinp, dweight: dweightA, dbias: nil, dout: UnsafePointer(dhidden), inp: inp, weight: weightA,
                        rows: n, inFeatures: c, outFeatures: r)
    }

    /// The dense weight W = B A the factors represent (for merging into a `Linear`, export, tests).
    /// - shapes: weightA [R,C], weightB [OC,R], weight [OC,C] (overwritten)
    public static func merge(weight: UnsafeMutablePointer<Float>, weightA: UnsafePointer<Float>, weightB: UnsafePointer<Float>,
                             inFeatures c: Int, rank r: Int, outFeatures oc: Int) {
        BLAS.gemm(m: oc, n: c, k: r, a: weightB, b: weightA, c: weight)
    }

    /// Number of parameters of the factorised layer: r (in + out), plus out for the bias.
    public static func parameterCount(inFeatures c: Int, outFeatures oc: Int, rank r: Int, bias: Bool) -> Int {
        r * (c + oc) + (bias ? oc : 0)
    }

    /// The largest rank at which the factors are still strictly smaller than the dense matrix:
    /// the largest r with r (in + out) < in * out (0 when no rank saves anything, e.g. a 1 x n matrix).
    public static func breakEvenRank(inFeatures c: Int, outFeatures oc: Int) -> Int {
        let product = c * oc, sum = c + oc
        guard sum > 0 else { return 0 }
        return (product - 1) / sum
    }
}
