/// A group of parameters whose gradients become final together during backward: the output head
/// (final norm and an untied head), one transformer block, or the input embeddings (with a tied head,
/// the embedding also receives the head's gradient, so it is final only at the very end).
///
/// Data-parallel training starts the all-reduce of a group's gradients as soon as backward reports
/// it (`PipelineStageModel.gradientReadyHook`), overlapping communication with the rest of backward.
public enum GradientGroup: Hashable, Sendable, CustomStringConvertible {
    case head
    case block(Int)
    case embedding

    /// The group of a parameter from its name: `<blockPrefix><l>.` names a block, `embeddingNames`
    /// the embeddings; anything else (final norm, untied head) is the head. LoRA factor names carry
    /// their module's path (`model.layers.3.self_attn.q_proj.lora_A.weight`) and map to its block.
    public init(parameterName name: String, blockPrefix: String, embeddingNames: Set<String>) {
        if embeddingNames.contains(name) { self = .embedding; return }
        if let range = name.range(of: blockPrefix) {
            let digits = name[range.upperBound...].prefix { $0.isNumber }
            if let layer = Int(digits) { self = .block(layer); return }
        }
        self = .head
    }

    /// Position in the order backward finishes the groups of a model with `layers` blocks (head first).
    public func backwardOrder(layers: Int) -> Int {
        switch self {
        case .head: return 0
        case .block(let l): return 1 + (layers - 1 - l)
        case .embedding: return 1 + layers
        }
    }

    public var description: String {
        switch self {
        case .head: return "head"
        case .block(let l): return "block \(l)"
        case .embedding: return "embedding"
        }
    }
}
