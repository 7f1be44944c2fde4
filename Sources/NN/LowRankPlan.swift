import Foundation

/// Which rank each kind of linear layer of a transformer gets when it is made low-rank.
///
/// Kinds not mentioned are dense. The output head is never made low-rank unless named explicitly
/// (it is often tied to the embedding, and it is where a rank bottleneck hurts the softmax most).
///
/// String grammar (for `--low-rank` style options; spaces around tokens ignored, names case-insensitive):
///
///     plan  := spec                 the same spec for qkv, attn_out, mlp_up and mlp_down (head stays dense)
///            | entry ("," entry)*
///     entry := kind "=" spec
///     kind  := "qkv" | "attn_out" | "mlp_up" | "mlp_down" | "head" | "all"
///     spec  := see `RankSpec` ("dense", "64", "0.25", "e0.9", "energy:0.9")
///
/// `all=spec` sets every kind except head that is not named in another entry, so
/// "all=0.25,mlp_down=dense" is order-independent. Naming a kind twice is an error.
/// Examples: "0.25", "qkv=0.25,attn_out=0.25,mlp_up=64,mlp_down=dense", "all=e0.95,head=e0.99".
public struct LowRankPlan: Equatable, Sendable, CustomStringConvertible, Codable {
    /// The kinds of linear layers in GPT-2 and LLaMA blocks.
    public enum LayerKind: String, CaseIterable, Sendable, Codable {
        /// Attention input projections: GPT-2's fused c_attn [3C, C], or LLaMA's q_proj, k_proj, v_proj.
        case qkv
        /// Attention output projection: GPT-2's attn.c_proj, LLaMA's o_proj.
        case attentionOutput = "attn_out"
        /// MLP input projections: GPT-2's mlp.c_fc, LLaMA's up_proj and gate_proj.
        case mlpUp = "mlp_up"
        /// MLP output projection: GPT-2's mlp.c_proj, LLaMA's down_proj.
        case mlpDown = "mlp_down"
        /// The vocabulary projection (lm_head). Dense unless a plan names it.
        case head
    }

    /// The spec per kind; kinds absent from the dictionary are dense.
    public private(set) var specs: [LayerKind: RankSpec]

    /// A plan from explicit specs (validated with `RankSpec.validate`).
    public init(_ specs: [LayerKind: RankSpec] = [:]) throws {
        for (kind, spec) in specs { try spec.validate(layer: kind.rawValue) }
        self.init(validated: specs)
    }

    /// Every kind dense.
    public static let dense = LowRankPlan(validated: [:])

    private init(validated specs: [LayerKind: RankSpec]) {
        self.specs = specs.filter { $0.value != .dense }
    }

    /// The same spec for every kind except the head.
    public init(uniform spec: RankSpec) throws {
        var d: [LayerKind: RankSpec] = [:]
        for kind in LayerKind.allCases where kind != .head { d[kind] = spec }
        try self.init(d)
    }

    /// The spec for `kind` (dense when the plan does not name it).
    public subscript(kind: LayerKind) -> RankSpec { specs[kind] ?? .dense }

    /// True when no layer is made low-rank.
    public var isDense: Bool { specs.isEmpty }

    /// Parses the grammar above; errors name the entry and the bad value.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw LowRankError.invalidPlan(text: text, reason: "it is empty") }
        guard trimmed.contains("=") else {
            try self.init(uniform: try RankSpec(parsing: trimmed, context: "all layers"))
            return
        }
        var named: [LayerKind: RankSpec] = [:]
        var all: RankSpec?
        for rawEntry in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = rawEntry.trimmingCharacters(in: .whitespaces)
            let parts = entry.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw LowRankError.invalidPlan(text: text, reason: entry.isEmpty ? "an entry is empty" : "entry '\(entry)' is not kind=spec")
            }
            let name = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            let specText = String(parts[1])
            if name == "all" {
                guard all == nil else { throw LowRankError.invalidPlan(text: text, reason: "'all' is given twice") }
                all = try RankSpec(parsing: specText, context: "all layers")
                continue
            }
            guard let kind = LayerKind(rawValue: name) else {
                let known = (LayerKind.allCases.map(\.rawValue) + ["all"]).joined(separator: ", ")
                throw LowRankError.invalidPlan(text: text, reason: "unknown layer kind '\(name)' (known: \(known))")
            }
            guard named[kind] == nil else { throw LowRankError.invalidPlan(text: text, reason: "'\(name)' is given twice") }
            named[kind] = try RankSpec(parsing: specText, context: name)
        }
        if let all {
            for kind in LayerKind.allCases where kind != .head && named[kind] == nil { named[kind] = all }
        }
        try self.init(named)
    }

    /// The rank of one layer of kind `kind` with weight [out, in], or nil to keep it dense
    /// (see `RankSpec.resolve`; `layer` is the layer's full name for errors).
    public func rank(for kind: LayerKind, layer: String, in inFeatures: Int, out outFeatures: Int,
                     singularValues: [Float]? = nil) throws -> Int? {
        try self[kind].resolve(in: inFeatures, out: outFeatures, singularValues: singularValues, layer: layer)
    }

    /// Canonical form listing every kind, e.g. "qkv=0.25,attn_out=0.25,mlp_up=64,mlp_down=dense,head=dense";
    /// `init(parsing:)` reads it back to an equal plan.
    public var description: String {
        LayerKind.allCases.map { "\($0.rawValue)=\(self[$0])" }.joined(separator: ",")
    }

    public init(from decoder: Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
