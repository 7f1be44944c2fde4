/// What one GPT-2 block computes with in a training pass: its two LayerNorms (with gradient slots
/// when they train) and its four linears, either trainable (dense or factorised, with bias) or a
/// frozen base's biased map with an optional LoRA adapter (`BlockLinearLayer` serves both
/// architectures: it knows nothing LLaMA-specific).
struct GPT2BlockLayers {
    let ln1Weight, ln1Bias, ln2Weight, ln2Bias: UnsafeMutablePointer<Float>
    /// Gradient slots of the LayerNorms; nil when they are frozen.
    let ln1WeightGrad, ln1BiasGrad, ln2WeightGrad, ln2BiasGrad: UnsafeMutablePointer<Float>?
    /// c_attn (fused q, k, v), attn.c_proj, mlp.c_fc and mlp.c_proj.
    let attn, proj, fc, fcProj: BlockLinearLayer
}
