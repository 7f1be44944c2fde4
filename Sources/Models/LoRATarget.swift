import Foundation

/// A kind of linear layer a LoRA adapter can attach to: LLaMA's q, k, v, o, gate, up and down
/// projections, and GPT-2's fused attention input (`c_attn`), attention output (`attn.c_proj`), MLP
/// input (`c_fc`) and MLP output (`mlp.c_proj`). The raw value is the short name used on the command line.
public enum LoRATarget: String, CaseIterable, Codable, Sendable {
    case query = "q", key = "k", value = "v", output = "o", gate, up, down
    case gpt2Attention = "c_attn", gpt2AttentionOutput = "attn.c_proj", gpt2MLPUp = "c_fc", gpt2MLPOutput = "mlp.c_proj"

    /// The architecture the module belongs to, as GGUF's `general.architecture` names it.
    public var architecture: String {
        switch self {
        case .query, .key, .value, .output, .gate, .up, .down: return "llama"
        default: return "gpt2"
        }
    }

    /// The module's path inside one transformer block (`self_attn.q_proj`, `attn.c_attn`, ...).
    public var blockPath: String {
        switch self {
        case .query: return "self_attn.q_proj"
        case .key: return "self_attn.k_proj"
        case .value: return "self_attn.v_proj"
        case .output: return "self_attn.o_proj"
        case .gate: return "mlp.gate_proj"
        case .up: return "mlp.up_proj"
        case .down: return "mlp.down_proj"
        case .gpt2Attention: return "attn.c_attn"
        case .gpt2AttentionOutput: return "attn.c_proj"
        case .gpt2MLPUp: return "mlp.c_fc"
        case .gpt2MLPOutput: return "mlp.c_proj"
        }
    }

    /// The name written to PEFT's `target_modules` (matched by PEFT as a suffix of module paths).
    public var peftName: String {
        switch self {
        case .gpt2AttentionOutput, .gpt2MLPOutput: return blockPath
        default: return String(blockPath.split(separator: ".").last!)
        }
    }

    /// Every module kind of `architecture` ("llama" or "gpt2"), in declaration order.
    public static func all(architecture: String) -> [LoRATarget] { allCases.filter { $0.architecture == architecture } }

    /// The targets a PEFT `target_modules` entry selects, by PEFT's rule (the entry equals a module
    /// path or is a suffix of it after a dot). A full path such as `model.layers.3.self_attn.q_proj`
    /// selects its kind. `c_proj` selects both GPT-2 output projections.
    public static func matching(peftName name: String) -> [LoRATarget] {
        allCases.filter { t in
            t.blockPath == name || t.blockPath.hasSuffix("." + name) || name.hasSuffix("." + t.blockPath)
        }
    }

    /// Parses a comma-separated list such as "q,k,v,o,gate,up,down" or "c_attn,attn.c_proj,c_fc,mlp.c_proj".
    /// Short names, Hugging Face module names ("q_proj") and PEFT suffixes ("c_proj") are accepted;
    /// duplicates are dropped and the order of first mention is kept.
    public static func parseList(_ list: String) throws -> [LoRATarget] {
        var out: [LoRATarget] = []
        for raw in list.split(separator: ",") {
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { continue }
            let found = LoRATarget(rawValue: name).map { [$0] } ?? matching(peftName: name)
            guard !found.isEmpty else { throw LoRAError.unknownTarget(name: name, known: allCases.map(\.rawValue)) }
            for t in found where !out.contains(t) { out.append(t) }
        }
        guard !out.isEmpty else { throw LoRAError.unknownTarget(name: list, known: allCases.map(\.rawValue)) }
        return out
    }
}
