import CBLAS
import Foundation

/// Row-major matrix products through OpenBLAS, with a scalar reference used by the tests.
///
/// `C[M,N] = alpha * op(A) * op(B) + beta * C`, where op(A) is `[M,K]` (A stored `[M,K]`, or `[K,M]` when
/// `transA`) and op(B) is `[K,N]` (B stored `[K,N]`, or `[N,K]` when `transB`). Leading dimensions default to
/// the packed row length.
public enum BLAS {
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                            b: UnsafePointer<Float>, ldb: Int? = nil,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
        if m == 0 || n == 0 { return }
        let lda = lda ?? (transA ? m : k)
        let ldb = ldb ?? (transB ? k : n)
        let ldc = ldc ?? n
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The same contract as `gemm`, computed with plain loops in double precision accumulation.
    public static func gemmReference(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                     alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                                     b: UnsafePointer<Float>, ldb: Int? = nil,
                                     beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
        let lda = lda ?? (transA ? m : k)
        let ldb = ldb ?? (transB ? k : n)
        let ldc = ldc ?? n
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let prev = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * s + prev)
            }
        }
    }

    /// `batch` independent products with fixed strides between consecutive A, B and C matrices.
    public static func gemmBatched(batch: Int, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                   alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, strideA: Int,
                                   b: UnsafePointer<Float>, ldb: Int? = nil, strideB: Int,
                                   beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil, strideC: Int) {
        for i in 0..<batch {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                 a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                 beta: beta, c: c + i * strideC, ldc: ldc)
        }
    }

    /// Tensor form: returns op(a) x op(b) for 2-D tensors.
    public static func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) throws -> Tensor {
        guard a.rank == 2, b.rank == 2 else { throw TensorError.shapeMismatch("matmul needs 2-D tensors, got \(a.shape) and \(b.shape)") }
        let m = transA ? a.shape[1] : a.shape[0]
        let ka = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0]
        let n = transB ? b.shape[0] : b.shape[1]
        guard ka == kb else { throw TensorError.shapeMismatch("matmul inner dimensions \(ka) and \(kb) differ") }
        let c = Tensor(zeros: [m, n])
        gemm(transA: transA, transB: transB, m: m, n: n, k: ka, a: a.pointer, b: b.pointer, c: c.pointer)
        return c
    }

    /// Number of threads OpenBLAS uses for one call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// The kernel family OpenBLAS picked for this processor (e.g. "Haswell", "SkylakeX", "Zen").
    public static var coreName: String { String(cString: openblas_get_corename()) }
}

extension BLAS {
    /// Runs `body` with OpenBLAS limited to one thread (for regions that parallelise over many small
    /// products themselves), restoring the previous setting afterwards.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let previous = threads
        if previous != 1 { threads = 1 }
        defer { if previous != 1 { threads = previous } }
        return try body()
    }
}

extension BLAS {
    /// log2 of the processor cycles an idle OpenBLAS worker spins (calling sched_yield) before it sleeps,
    /// as set by `limitIdleSpinning`: 2^16 cycles, about 20 us here.
    public static let idleSpinLog2Cycles = 16

    /// Shortens how long OpenBLAS's idle worker threads spin between calls (the library's default,
    /// 2^28 cycles, is about 0.1 s), unless OPENBLAS_THREAD_TIMEOUT is already set. Between two
    /// products the workers otherwise keep yielding on the cores that this program's own parallel
    /// loops (`Parallel`) run on; on the 2-core machine QLoRA training ran 13-16% faster with the
    /// workers sleeping after about 20 us (measured with 2^12 to 2^24 cycles: 2^12-2^20 equal, 2^22 and
    /// up as slow as the default). Call once at start-up, before any other thread uses BLAS.
    /// Returns true when the workers were restarted with the new setting.
    @discardableResult
    public static func limitIdleSpinning() -> Bool {
        guard ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] == nil else { return false }
        setenv("OPENBLAS_THREAD_TIMEOUT", String(idleSpinLog2Cycles), 1)
        return fingpt_openblas_restart_threads() == 1
    }
}
