/// The one place where tensor names are translated between Hugging Face (our internal names) and
/// GGUF (llama.cpp), and where llama.cpp's q/k row permutation for rotary embeddings is defined.
public enum TensorNameMapping {
    /// GGUF name for a Hugging Face LLaMA tensor name, or nil when it has no GGUF counterpart.
    public static func ggufName(forLlama hf: String) -> String? {
        if hf == "model.embed_tokens.weight" { return "token_embd.weight" }
        if hf == "model.norm.weight" { return "output_norm.weight" }
        if hf == "lm_head.weight" { return "output.weight" }
        let parts = hf.split(separator: ".")
        guard parts.count >= 5, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]) else { return nil }
        let rest = parts[3...].joined(separator: ".")
        let table = [
            "input_layernorm.weight": "attn_norm.weight",
            "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
            "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
            "post_attention_layernorm.weight": "ffn_norm.weight",
            "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight",
        ]
        return table[rest].map { "blk.\(layer).\($0)" }
    }

    /// GGUF name for a GPT-2 tensor name (nanoGPT naming), or nil.
    public static func ggufName(forGPT2 name: String) -> String? {
        let fixed = ["transformer.wte.weight": "token_embd.weight", "transformer.wpe.weight": "position_embd.weight",
                     "transformer.ln_f.weight": "output_norm.weight", "transformer.ln_f.bias": "output_norm.bias"]
        if let f = fixed[name] { return f }
        let parts = name.split(separator: ".")
        guard parts.count >= 5, parts[0] == "transformer", parts[1] == "h", let layer = Int(parts[2]) else { return nil }
        let rest = parts[3...].joined(separator: ".")
        let table = ["ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
                     "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"]
        for suffix in ["weight", "bias"] where rest.hasSuffix("." + suffix) {
            let module = String(rest.dropLast(suffix.count + 1))
            if let g = table[module] { return "blk.\(layer).\(g).\(suffix)" }
        }
        return nil
    }

    /// For row r of a GGUF-layout q or k weight (adjacent rotary pairs), the Hugging Face row it holds
    /// (rotate-half layout). llama.cpp's converter stores HF row h*d + a*(d/2) + j at h*d + 2j + a.
    @inline(__always)
    public static func huggingFaceRow(forGGUFRow r: Int, headDim d: Int) -> Int {
        let h = r / d, within = r % d
        let j = within / 2, a = within % 2
        return h * d + a * (d / 2) + j
    }

    /// Permutes rows of a row-major matrix from GGUF (adjacent pairs) to Hugging Face (halves) layout
    /// or back. `rowBytes` is the byte size of one row (works for quantized rows too).
    public static func permuteRotaryRows(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, rows: Int, rowBytes: Int,
                                         headDim: Int, toHuggingFace: Bool) {
        for r in 0..<rows {
            let hf = huggingFaceRow(forGGUFRow: r, headDim: headDim)
            let (from, to) = toHuggingFace ? (r, hf) : (hf, r)
            (dst + to * rowBytes).copyMemory(from: src + from * rowBytes, byteCount: rowBytes)
        }
    }
}
