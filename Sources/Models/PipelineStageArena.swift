import Tensor

/// The activations of one micro-batch on one pipeline stage (a contiguous range of blocks), made by
/// `PipelineStageModel.makeStageArena`. The pointers are where messages go: a later stage receives
/// the previous stage's output into `input`, and backward receives d(output) into `gradient`, which
/// holds d(input) once the stage's backward has run (the buffer is updated in place).
public final class PipelineStageArena {
    public let batch: Int
    public let seq: Int
    /// The blocks this stage runs.
    public let layers: Range<Int>
    /// Floats per position of the hidden state.
    public let width: Int
    /// The stage's input hidden state [batch * seq, width] (the embedding output on the first stage).
    public let input: UnsafeMutablePointer<Float>
    /// The stage's output hidden state [batch * seq, width] (the last block's output).
    public let output: UnsafeMutablePointer<Float>
    /// d(output) on entry to the stage's backward, d(input) after it.
    public let gradient: UnsafeMutablePointer<Float>
    /// The model's activation storage (GPT-2 or LLaMA arena).
    let storage: AnyObject

    init(storage: AnyObject, batch: Int, seq: Int, layers: Range<Int>, width: Int, input: UnsafeMutablePointer<Float>,
         output: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>) {
        self.storage = storage
        self.batch = batch
        self.seq = seq
        self.layers = layers
        self.width = width
        self.input = input
        self.output = output
        self.gradient = gradient
    }

    /// Floats of one hidden state message (batch x seq x width).
    public var hiddenCount: Int { batch * seq * width }
}
