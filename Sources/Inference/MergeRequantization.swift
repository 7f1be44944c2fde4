import Quantization

/// How `ModelConverter.merge` encodes an adapted weight whose base GGUF tensor is stored in the output
/// type (Q4_0, Q4_1 or Q8_0). Other combinations (another output type, a float or Hugging Face base)
/// are always quantized afresh; tensors no adapter module touches are copied from the base file.
public enum MergeRequantization: String, CaseIterable, Sendable {
    /// Quantize the merged floats from scratch: every block gets a new scale (and min), every value is
    /// rounded again (a second quantization error on top of the base's).
    case fresh
    /// Keep each block's stored scale (and min) and round merged values to the nearest code: an update
    /// smaller than half a step is rounded away.
    case baseGrid = "base-grid"
    /// Keep each block's grid and round stochastically (up with probability equal to the fractional
    /// position; a seeded hash, so reproducible): the update survives in expectation.
    case baseGridStochastic = "base-grid-stochastic"

    /// What `merge` does unless told otherwise (chosen by measurement; see bench/RESULTS.md).
    public static let defaultForSameType: MergeRequantization = .baseGridStochastic

    /// The rounding onto the base grid, or nil for `fresh`.
    func gridRounding(seed: UInt64) -> GridRounding? {
        switch self {
        case .fresh: return nil
        case .baseGrid: return .nearest
        case .baseGridStochastic: return .stochastic(seed: seed)
        }
    }
}
