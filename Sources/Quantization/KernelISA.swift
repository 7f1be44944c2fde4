import CQuantKernels
import Foundation

/// Which implementation of the C kernels runs: portable scalar C, or AVX2 + FMA + F16C.
///
/// `best` is chosen once from the processor's features (`FINGPT_QUANT_ISA=scalar` forces the scalar
/// kernels, e.g. to compare speeds). Every kernel entry point takes an `isa` argument defaulting to
/// `best`, so tests can run both versions on the same machine.
public enum KernelISA: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case scalar = 0
    case avx2 = 1

    /// Whether this processor can run the AVX2 kernels.
    public static let hasAVX2: Bool = fq_cpu_has_avx2() != 0

    /// The fastest implementation available here (honours `FINGPT_QUANT_ISA=scalar`).
    public static let best: KernelISA = {
        if ProcessInfo.processInfo.environment["FINGPT_QUANT_ISA"]?.lowercased() == "scalar" { return .scalar }
        return hasAVX2 ? .avx2 : .scalar
    }()

    /// The implementations that can run on this processor.
    public static var available: [KernelISA] { hasAVX2 ? [.scalar, .avx2] : [.scalar] }

    /// The value passed to the C kernels.
    @inline(__always) var code: Int32 { rawValue }

    public var description: String { self == .avx2 ? "avx2" : "scalar" }
}
