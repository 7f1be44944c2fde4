import Foundation
import Tensor

/// Initialisation of the factors of a `LowRankLinear` trained from scratch, matched to the dense layer
/// it replaces.
///
/// A dense W [out, in] ~ N(0, sigma^2) (GPT-2: sigma = 0.02, residual projections 0.02 / sqrt(2 L)) gives,
/// for inputs with independent zero-mean entries of second moment v,
///
///     Var(y_i) = in * sigma^2 * v.
///
/// For y = B (A x) with A [r, in] ~ N(0, sa^2) and B [out, r] ~ N(0, sb^2), all independent,
///
///     Var(h_k) = in * sa^2 * v,   Var(y_i) = r * sb^2 * Var(h_k) = r * in * sa^2 * sb^2 * v,
///
/// so the product reproduces the dense layer's output variance exactly when r * sa^2 * sb^2 = sigma^2.
/// (This holds in expectation over the weights; for one draw the mean output variance deviates from it by
/// a relative amount of about sqrt(2 (1/in + 1/out) / r), e.g. 2% for in = out = 256, r = 32.) The backward
/// signal is matched the same way: dx = A^T B^T dy has Var(dx_j) = r * out * sa^2 * sb^2 * Var(dy), which
/// equals the dense layer's out * sigma^2 * Var(dy).
///
/// One equation leaves one degree of freedom, the split between sa and sb (`Split`).
public enum LowRankInitialization {
    /// How sigma^2 / r is split between the two factors' variances.
    public enum Split: String, Sendable, CaseIterable {
        /// sa = sb = (sigma^2 / r)^(1/4): the same scale for both factors.
        case equal
        /// sa^2 * in = sb^2 * out, i.e. E[A A^T] = E[B^T B] (both r x r, = in sa^2 I = out sb^2 I), hence
        /// equal expected Frobenius norms ||A||_F = ||B||_F:
        ///
        ///     sa = (sigma^2 out / (r in))^(1/4),  sb = (sigma^2 in / (r out))^(1/4).
        ///
        /// Reason: this is the balance that the SVD factorisation of a pretrained matrix has exactly
        /// (B = U S^(1/2), A = S^(1/2) V^T gives B^T B = A A^T = S, see `TruncatedSVD.factorize`), so
        /// factors trained from scratch and factors compressed from a checkpoint start with the same
        /// relative scale, and gradient flow on y = B A x conserves A A^T - B^T B, so a balanced start
        /// stays balanced (neither factor dominates the effective learning rate of the product, and weight
        /// decay acts on both alike). For square layers (in == out) it coincides with `.equal`.
        case balanced
    }

    /// Standard deviations (sa of A [r, in], sb of B [out, r]) with r * sa^2 * sb^2 = denseStd^2.
    public static func standardDeviations(denseStd sigma: Float, inFeatures c: Int, outFeatures oc: Int, rank r: Int,
                                          split: Split = .balanced) -> (a: Float, b: Float) {
        precondition(c > 0 && oc > 0 && r > 0, "low-rank initialisation needs positive sizes, got in \(c), out \(oc), rank \(r)")
        let s2 = Double(sigma) * Double(sigma)
        switch split {
        case .equal:
            let v = Foundation.pow(s2 / Double(r), 0.25)
            return (Float(v), Float(v))
        case .balanced:
            let a = Foundation.pow(s2 * Double(oc) / (Double(r) * Double(c)), 0.25)
            let b = Foundation.pow(s2 * Double(c) / (Double(r) * Double(oc)), 0.25)
            return (Float(a), Float(b))
        }
    }

    /// Fills A and B with zero-mean normal samples at the standard deviations above (A first, then B,
    /// both from `rng`, so the result is reproducible from the generator state).
    /// - shapes: weightA [R,C], weightB [OC,R]
    public static func initialize(weightA: UnsafeMutablePointer<Float>, weightB: UnsafeMutablePointer<Float>,
                                  inFeatures c: Int, outFeatures oc: Int, rank r: Int, denseStd sigma: Float,
                                  split: Split = .balanced, rng: inout RandomGenerator) {
        let (sa, sb) = standardDeviations(denseStd: sigma, inFeatures: c, outFeatures: oc, rank: r, split: split)
        rng.fillNormal(UnsafeMutableBufferPointer(start: weightA, count: r * c), std: sa)
        rng.fillNormal(UnsafeMutableBufferPointer(start: weightB, count: oc * r), std: sb)
    }
}
