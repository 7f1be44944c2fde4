import Tensor

/// Folds LoRA updates into dense float32 weights, W' = W + scaling * B A, and takes them out again
/// (W = W' - scaling * B A; exact up to float rounding). Weights are [out, in] row-major, the layout of
/// `LlamaModel` (Hugging Face nn.Linear) and `GPT2Model` (nanoGPT, not Hugging Face's Conv1D [in, out]).
/// To export a merged model in a quantized type, load the base as float32, merge, and quantize on
/// export (e.g. with the GGUF exporter).
public enum LoRAMerge {
    /// W[out, in] += scale * B[out, rank] A[rank, in] (one BLAS product).
    public static func addProduct(into weight: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                  rank: Int, outFeatures: Int, inFeatures: Int, scale: Float) {
        BLAS.gemm(m: outFeatures, n: inFeatures, k: rank, alpha: scale, a: b, b: a, beta: 1, c: weight)
    }

    /// `weight` [out, in] += scaling * `b` [out, r] `a` [r, in], after checking the shapes.
    public static func merge(a: Tensor, b: Tensor, scaling: Float, into weight: Tensor) throws {
        try apply(a: a, b: b, scale: scaling, weight: weight)
    }

    /// The inverse of `merge(a:b:scaling:into:)`.
    public static func unmerge(a: Tensor, b: Tensor, scaling: Float, from weight: Tensor) throws {
        try apply(a: a, b: b, scale: -scaling, weight: weight)
    }

    /// Adds every module's update to the matching weight of a model's parameters.
    public static func merge(_ adapter: LoRAAdapter, into parameters: ParameterStore, base: LoRABaseModel) throws {
        try apply(adapter, parameters: parameters, base: base, sign: 1)
    }

    /// Removes every module's update from a model's parameters (the inverse of `merge`).
    public static func unmerge(_ adapter: LoRAAdapter, from parameters: ParameterStore, base: LoRABaseModel) throws {
        try apply(adapter, parameters: parameters, base: base, sign: -1)
    }

    /// Merges the adapter into a LLaMA model's weights in place.
    public static func merge(_ adapter: LoRAAdapter, into model: LlamaModel) throws {
        try merge(adapter, into: model.parameters, base: .llama(model.config))
    }

    /// Takes the adapter back out of a LLaMA model's weights.
    public static func unmerge(_ adapter: LoRAAdapter, from model: LlamaModel) throws {
        try unmerge(adapter, from: model.parameters, base: .llama(model.config))
    }

    /// Merges the adapter into a GPT-2 model's weights in place.
    public static func merge(_ adapter: LoRAAdapter, into model: GPT2Model) throws {
        try merge(adapter, into: model.parameters, base: .gpt2(model.config))
    }

    /// Takes the adapter back out of a GPT-2 model's weights.
    public static func unmerge(_ adapter: LoRAAdapter, from model: GPT2Model) throws {
        try unmerge(adapter, from: model.parameters, base: .gpt2(model.config))
    }

    static func apply(_ adapter: LoRAAdapter, parameters: ParameterStore, base: LoRABaseModel, sign: Float) throws {
        try adapter.validate(against: base)
        for m in adapter.modules {
            guard let entry = parameters.entry(m.weightName) else {
                throw LoRAError.incompatibleBase("the model has no weight \(m.weightName)")
            }
            guard entry.shape == [m.outFeatures, m.inFeatures] else {
                throw LoRAError.incompatibleBase("\(m.weightName) is \(entry.shape), the adapter needs [\(m.outFeatures), \(m.inFeatures)]")
            }
        }
        for m in adapter.modules {
            addProduct(into: parameters.pointer(m.weightName), a: adapter.a(m).pointer, b: adapter.b(m).pointer,
                       rank: adapter.config.rank, outFeatures: m.outFeatures, inFeatures: m.inFeatures, scale: sign * adapter.scaling)
        }
    }

    static func apply(a: Tensor, b: Tensor, scale: Float, weight: Tensor) throws {
        guard weight.rank == 2, a.rank == 2, b.rank == 2, a.shape[1] == weight.shape[1], b.shape[0] == weight.shape[0],
              a.shape[0] == b.shape[1] else {
            throw LoRAError.incompatibleBase("cannot add B \(b.shape) x A \(a.shape) to a weight of shape \(weight.shape)")
        }
        addProduct(into: weight.pointer, a: a.pointer, b: b.pointer, rank: a.shape[0], outFeatures: weight.shape[0],
                   inFeatures: weight.shape[1], scale: scale)
    }
}
