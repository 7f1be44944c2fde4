import CBLAS
import Foundation
import Tensor

/// Singular value decomposition of float32 matrices through LAPACK's divide-and-conquer `sgesdd_`
/// (shipped inside OpenBLAS), and the rank-r factorisation W ~ B A that initialises a `LowRankLinear`
/// from a pretrained dense weight.
///
/// Layout: our matrices are row-major, LAPACK's column-major. A row-major W [m, n] is, byte for byte, the
/// column-major matrix W^T [n, m]. LAPACK factorises that one: W^T = U' S V'^T with U' [n, k] and
/// V'^T [k, m] column-major (k = min(m, n)). Transposing back, W = V' S U'^T, so W's left factor U = V'
/// and right factor V^T = U'^T. Column-major U' [n, k] (leading dimension n) has exactly the bytes of a
/// row-major [k, n] matrix, which is U'^T = V^T; column-major V'^T [k, m] (leading dimension k) has the
/// bytes of a row-major [m, k] matrix, which is V' = U. So LAPACK's `u` output is written straight into
/// our Vt and its `vt` output into our U, and nothing is transposed or copied.
///
/// No global state: each call allocates its own copies and workspace, so calls may run on several
/// threads (OpenBLAS's own threads are used inside each call).
public enum TruncatedSVD {
    /// The thin SVD W = U diag(S) Vt with singular values in descending order.
    /// - shapes: w [m,n] row-major; returns u [m,k], s [k], vt [k,n] with k = min(m, n)
    /// - Throws: `LowRankError.invalidMatrix` for an empty, oversized or non-finite matrix,
    ///   `LowRankError.lapackFailure` when `sgesdd_` reports info != 0.
    public static func decompose(_ w: UnsafePointer<Float>, rows m: Int, columns n: Int) throws -> (u: Tensor, s: [Float], vt: Tensor) {
        guard m > 0, n > 0 else { throw LowRankError.invalidMatrix(rows: m, columns: n, reason: "it is empty") }
        guard m <= Int(Int32.max), n <= Int(Int32.max), m * n <= Int(Int32.max) else {
            throw LowRankError.invalidMatrix(rows: m, columns: n, reason: "it exceeds LAPACK's 32-bit index range")
        }
        let k = min(m, n)
        // sgesdd_ overwrites its input: work on a copy. Non-finite values would make it fail or loop.
        let a = AlignedBuffer<Float>(count: m * n)
        for i in 0..<(m * n) {
            let v = w[i]
            guard v.isFinite else {
                throw LowRankError.invalidMatrix(rows: m, columns: n, reason: "element \(i) (row \(i / n), column \(i % n)) is \(v)")
            }
            a[i] = v
        }
        let u = Tensor(zeros: [m, k]), vt = Tensor(zeros: [k, n])
        var s = [Float](repeating: 0, count: k)
        // LAPACK sees the column-major [n, m] matrix W^T (see the type's documentation).
        var jobz = Int8(UInt8(ascii: "S"))
        var lm = Int32(n), ln = Int32(m), lda = Int32(n)
        var ldu = Int32(n)   // LAPACK's U' [n, k] = our Vt [k, n]
        var ldvt = Int32(k)  // LAPACK's V'^T [k, m] = our U [m, k]
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var info: Int32 = 0

        // Workspace query (lwork = -1): the optimal size comes back in work[0].
        var query: Float = 0
        var lwork: Int32 = -1
        s.withUnsafeMutableBufferPointer { sp in
            iwork.withUnsafeMutableBufferPointer { ip in
                sgesdd_(&jobz, &lm, &ln, a.pointer, &lda, sp.baseAddress, vt.pointer, &ldu, u.pointer, &ldvt,
                        &query, &lwork, ip.baseAddress, &info)
            }
        }
        guard info == 0 else { throw LowRankError.lapackFailure(routine: "sgesdd_ (workspace query)", info: Int(info), rows: m, columns: n) }
        // The size is returned as a float; round up (with a little slack) so float rounding of a large
        // integer can never make it too small.
        let size = Int((Double(query) * (1 + 1e-6)).rounded(.up)) + 1
        guard size <= Int(Int32.max) else {
            throw LowRankError.invalidMatrix(rows: m, columns: n, reason: "its LAPACK workspace of \(size) floats exceeds the 32-bit range")
        }
        lwork = Int32(size)
        let work = AlignedBuffer<Float>(count: size)
        // The buffers are used through raw pointers only: keep them alive until LAPACK returns.
        withExtendedLifetime((a, work)) {
            s.withUnsafeMutableBufferPointer { sp in
                iwork.withUnsafeMutableBufferPointer { ip in
                    sgesdd_(&jobz, &lm, &ln, a.pointer, &lda, sp.baseAddress, vt.pointer, &ldu, u.pointer, &ldvt,
                            work.pointer, &lwork, ip.baseAddress, &info)
                }
            }
        }
        guard info == 0 else { throw LowRankError.lapackFailure(routine: "sgesdd_", info: Int(info), rows: m, columns: n) }
        return (u, s, vt)
    }

    /// The best rank-r approximation W ~ B A (Eckart-Young) with the singular values split evenly:
    /// B = U_r S_r^(1/2), A = S_r^(1/2) Vt_r, so B^T B = A A^T = S_r (balanced factors).
    ///
    /// - shapes: w [m,n] row-major (a Linear weight [out, in]); returns b [m,r] (`LowRankLinear`'s weightB),
    ///   a [r,n] (weightA)
    /// - Returns also `energyKept` = sum_{i<r} s_i^2 / sum_i s_i^2 and `relativeError` = ||W - B A||_F / ||W||_F
    ///   computed directly from the product (Eckart-Young: it equals sqrt(1 - energyKept) up to rounding).
    /// - Throws: `LowRankError.rankOutOfRange` unless 1 <= r <= min(m, n), and the errors of `decompose`.
    public static func factorize(_ w: UnsafePointer<Float>, rows m: Int, columns n: Int, rank r: Int,
                                 layer: String = "matrix") throws -> (b: Tensor, a: Tensor, energyKept: Double, relativeError: Double) {
        guard r >= 1, r <= min(m, n) else { throw LowRankError.rankOutOfRange(layer: layer, rank: r, inFeatures: n, outFeatures: m) }
        let svd = try decompose(w, rows: m, columns: n)
        return try factors(u: svd.u, s: svd.s, vt: svd.vt, rank: r, original: w, layer: layer)
    }

    /// Decomposes once, resolves `spec` against the singular values (so `.energy` works), and factorises;
    /// nil for `.dense`, and nil when an energy threshold needs a rank at which the factors would be no
    /// smaller than the dense matrix (beyond `LowRankLinear.breakEvenRank`: factorising would only cost).
    /// The rank chosen is `b.shape[1]`.
    /// - shapes: w [m,n] = [out, in]; returns b [m,r], a [r,n]
    public static func factorize(_ w: UnsafePointer<Float>, rows m: Int, columns n: Int, spec: RankSpec,
                                 layer: String) throws -> (b: Tensor, a: Tensor, energyKept: Double, relativeError: Double)? {
        if spec == .dense { return nil }
        // Validate before paying for the SVD (an energy spec can only be resolved after it).
        if case .energy = spec { try spec.validate(layer: layer) } else { _ = try spec.resolve(in: n, out: m, layer: layer) }
        let svd = try decompose(w, rows: m, columns: n)
        guard let r = try spec.resolve(in: n, out: m, singularValues: svd.s, layer: layer) else { return nil }
        if case .energy = spec, r > LowRankLinear.breakEvenRank(inFeatures: n, outFeatures: m) { return nil }
        return try factors(u: svd.u, s: svd.s, vt: svd.vt, rank: r, original: w, layer: layer)
    }

    /// The rank-r factors from an existing decomposition of `original` (to try several ranks with one SVD).
    /// - shapes: u [m,k], s [k], vt [k,n], original [m,n]; returns b [m,r], a [r,n]
    public static func factors(u: Tensor, s: [Float], vt: Tensor, rank r: Int, original w: UnsafePointer<Float>,
                               layer: String = "matrix") throws -> (b: Tensor, a: Tensor, energyKept: Double, relativeError: Double) {
        precondition(u.rank == 2 && vt.rank == 2 && u.shape[1] == s.count && vt.shape[0] == s.count,
                     "decomposition shapes \(u.shape), [\(s.count)], \(vt.shape) do not fit together")
        let m = u.shape[0], n = vt.shape[1], k = s.count
        guard r >= 1, r <= k else { throw LowRankError.rankOutOfRange(layer: layer, rank: r, inFeatures: n, outFeatures: m) }
        let b = Tensor(zeros: [m, r]), a = Tensor(zeros: [r, n])
        let root = s.prefix(r).map { $0.squareRoot() }
        for i in 0..<m {
            for j in 0..<r { b[i * r + j] = u[i * k + j] * root[j] }
        }
        for j in 0..<r {
            let src = vt.pointer + j * n, dst = a.pointer + j * n
            for c in 0..<n { dst[c] = src[c] * root[j] }
        }
        let energy = energyKept(singularValues: s, rank: r)
        let error = relativeError(original: w, b: b.pointer, a: a.pointer, rows: m, columns: n, rank: r)
        return (b, a, energy, error)
    }

    /// sum_{i<r} s_i^2 / sum_i s_i^2 in double precision (1 for a zero matrix).
    public static func energyKept(singularValues s: [Float], rank r: Int) -> Double {
        var total = 0.0, kept = 0.0
        for (i, v) in s.enumerated() {
            let e = Double(v) * Double(v)
            total += e
            if i < r { kept += e }
        }
        return total > 0 ? kept / total : 1
    }

    /// ||W - B A||_F / ||W||_F, forming B A with sgemm and accumulating both norms in double
    /// (0 for a zero W reproduced exactly, infinity for a zero W that is not).
    /// - shapes: original [m,n], b [m,r], a [r,n]
    public static func relativeError(original w: UnsafePointer<Float>, b: UnsafePointer<Float>, a: UnsafePointer<Float>,
                                     rows m: Int, columns n: Int, rank r: Int) -> Double {
        let product = AlignedBuffer<Float>(count: m * n)
        var diff = 0.0, norm = 0.0
        withExtendedLifetime(product) {
            let p = product.pointer
            BLAS.gemm(m: m, n: n, k: r, a: b, b: a, c: p)
            for i in 0..<(m * n) {
                let x = Double(w[i]), d = x - Double(p[i])
                diff += d * d
                norm += x * x
            }
        }
        if norm == 0 { return diff == 0 ? 0 : .infinity }
        return (diff / norm).squareRoot()
    }
}
