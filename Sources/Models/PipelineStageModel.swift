import NN

/// A trainable model that can run a contiguous range of its transformer blocks on its own (a pipeline
/// stage) and reports when groups of gradients are final (for overlapped data-parallel reduction).
///
/// A stage's pass for one micro-batch: `stageForward` (the first stage embeds the tokens, the others
/// start from `arena.input` received from the previous stage; the last stage also applies the final
/// norm), then on the last stage `stageLoss` (the head's loss, and with a gradient scale its backward
/// down to d(last block output) in `arena.gradient`), then `stageBackward` (blocks in reverse, the
/// first stage ending with the embedding). Run over all blocks on one process, these are exactly the
/// steps of `forwardBackward`.
public protocol PipelineStageModel: TrainableLanguageModel {
    /// The number of transformer blocks.
    var blockCount: Int { get }
    /// Floats per position of the hidden state passed between stages.
    var hiddenWidth: Int { get }
    /// The trainable embedding parameter that the output head shares (tied weights), if any; with
    /// pipeline stages its gradient is the sum of the first and last stage's contributions.
    var tiedHeadParameter: String? { get }
    /// Called from backward once a group's gradients are final (nil: no calls).
    var gradientReadyHook: ((GradientGroup) -> Void)? { get set }
    /// The gradient group of a trainable parameter.
    func gradientGroup(ofParameter name: String) -> GradientGroup
    /// Activation storage for one micro-batch of `batch` x `seq` positions through blocks `layers`.
    func makeStageArena(batch: Int, seq: Int, layers: Range<Int>) throws -> PipelineStageArena
    /// Forward through the stage's blocks (see the protocol's description). `tokens` are read only on
    /// the first stage; `training` enables training-only randomness (adapter dropout).
    func stageForward(_ arena: PipelineStageArena, tokens: [Int32], training: Bool) throws
    /// Last stage only: the loss of `targets`; with `gradScale`, accumulates the head's gradients of
    /// (sum of losses) x gradScale and leaves d(last block output) in `arena.gradient`.
    func stageLoss(_ arena: PipelineStageArena, targets: [Int32], gradScale: Float?) throws -> ChunkedCrossEntropy.Result
    /// Backward through the stage's blocks from d(output) in `arena.gradient` (recomputing them first
    /// when `recompute` is on), accumulating gradients; leaves d(input) in `arena.gradient`.
    func stageBackward(_ arena: PipelineStageArena) throws
}
