import NN
import Quantization
import Tensor

/// What one-token generation of a `LlamaRunner` needs beyond its weights when every block matrix
/// and the output head are quantized with integer kernels (Q4_0, Q4_1, Q8_0 with 8-bit activations):
/// the matrices themselves, scratch vectors and quantized-activation buffers reused every token,
/// and the split of output rows over threads.
///
/// With it a block takes four parallel regions (q/k/v; o; gate/up with SwiGLU and the quantization
/// of its output; down) plus attention, each thread working on its own rows, and nothing is
/// allocated per token.
final class LlamaDecodePlan {
    struct Layer {
        let qkv, o, gateUp, down: QuantizedMatrix
    }

    let layers: [Layer]
    let head: QuantizedMatrix
    /// Threads of the parallel regions (`Parallel.threadCount`).
    let threads: Int
    /// Scratch: residual stream x [C], normed h [C], stacked q/k/v [qDim + 2 kvDim], attention output
    /// [qDim], stacked gate/up [2 I], SwiGLU output [I], projection output [C], scores [heads * context].
    let x, h, qkv, att, gateUp, act, projection, scores: UnsafeMutablePointer<Float>
    let hiddenQ, attentionQ, activationQ: Q8ActivationBuffer
    private let storage: AlignedBuffer<Float>

    /// The plan for `runner`, or nil when some matrix has no integer kernel (float32, F16, K-quants,
    /// NF4, adapters, float activations) or a width is not a multiple of 32; those runners take the
    /// general path.
    init?(runner: LlamaRunner) {
        func integer(_ map: LinearMap) -> QuantizedMatrix? {
            guard let q = map as? QuantizedLinearMap, q.matrix.type.hasIntegerKernel, q.matrix.gemvActivations == .int8 else { return nil }
            return q.matrix
        }
        let cfg = runner.config
        guard cfg.hiddenSize % 32 == 0, cfg.qDim % 32 == 0, cfg.intermediateSize % 32 == 0, let head = integer(runner.head) else { return nil }
        var layers: [Layer] = []
        for l in runner.layers {
            guard let qkv = integer(l.qkv), let o = integer(l.o), let gateUp = integer(l.gateUp), let down = integer(l.down) else { return nil }
            layers.append(Layer(qkv: qkv, o: o, gateUp: gateUp, down: down))
        }
        self.layers = layers
        self.head = head
        threads = Parallel.threadCount
        let c = cfg.hiddenSize, qkvd = cfg.qDim + 2 * cfg.kvDim, im = cfg.intermediateSize
        let sizes = [c, c, qkvd, cfg.qDim, 2 * im, im, c, cfg.heads * runner.maxContext].map { ($0 + 15) / 16 * 16 }
        storage = AlignedBuffer<Float>(count: sizes.reduce(0, +))
        var cursor = storage.pointer
        var parts: [UnsafeMutablePointer<Float>] = []
        for s in sizes { parts.append(cursor); cursor += s }
        (x, h, qkv, att, gateUp, act, projection, scores) = (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6], parts[7])
        hiddenQ = Q8ActivationBuffer(count: c)
        attentionQ = Q8ActivationBuffer(count: cfg.qDim)
        activationQ = Q8ActivationBuffer(count: im)
    }

    /// Worker `worker`'s share of `count` items split into `threads` contiguous ranges whose
    /// boundaries are multiples of `multiple` (the last range takes the remainder).
    func share(_ count: Int, worker: Int, multiple: Int = 4) -> Range<Int> {
        RowShares.share(count, worker: worker, threads: threads, multiple: multiple)
    }
}
