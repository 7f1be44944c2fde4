import NN
import Tensor

/// A language model the trainer can optimise: flat parameter and gradient stores, a loss, and a
/// forward+backward pass that accumulates gradients. GPT-2 and LLaMA models conform.
public protocol TrainableLanguageModel: AnyObject {
    var configuration: ModelConfiguration { get }
    /// The trainable parameters (what the optimizer updates and checkpoints store).
    var parameters: ParameterStore { get }
    /// Gradients, laid out as `parameters`.
    var gradients: ParameterStore { get }
    /// Keep only each block's input during forward and recompute the block inside backward.
    var recompute: Bool { get set }
    /// When set, forward and backward phases are timed into it.
    var profiler: PhaseTimer? { get set }
    /// Mean cross-entropy over targets >= 0 of `tokens` [batch, seq], without gradients.
    func loss(tokens: [Int32], targets: [Int32], batch: Int, seq: Int) throws -> ChunkedCrossEntropy.Result
    /// Forward and backward for one micro-batch; accumulates gradients of (sum of losses) x gradScale.
    func forwardBackward(tokens: [Int32], targets: [Int32], batch: Int, seq: Int, gradScale: Float) throws -> ChunkedCrossEntropy.Result
    func zeroGradients()
    /// Seeds the randomness of the next training pass (adapter dropout); a no-op for models without any.
    func setStochasticSeed(_ seed: UInt64)
    /// Under adapter finetuning, the LoRA adapter whose factors are `parameters`; nil when every weight trains.
    var adapter: LoRAAdapter? { get }
    /// Under adapter finetuning, how the frozen base weights are stored; nil when every weight trains.
    var frozenWeightFormat: FrozenWeightFormat? { get }
}

extension TrainableLanguageModel {
    public func setStochasticSeed(_ seed: UInt64) {}
}

extension GPT2Model: TrainableLanguageModel {
    public var configuration: ModelConfiguration { .gpt2(config) }
    public func setStochasticSeed(_ seed: UInt64) { stochasticSeed = seed }
    public var frozenWeightFormat: FrozenWeightFormat? { frozen?.format }
}

extension LlamaModel: TrainableLanguageModel {
    public var configuration: ModelConfiguration { .llama(config) }
    public func setStochasticSeed(_ seed: UInt64) { stochasticSeed = seed }
    public var frozenWeightFormat: FrozenWeightFormat? { frozen?.format }
}
