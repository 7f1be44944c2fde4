import Foundation
import NN
import Tensor

/// Method 2 of FinGPT-HPC: start a low-rank model from a pretrained dense one by truncated SVD of
/// each linear layer, W ~ (U S^1/2)(S^1/2 V^T) = B A, with the rank per layer given by a plan
/// (absolute, fraction of min(in, out), or the smallest rank keeping a fraction of spectral energy).
public enum LowRankFactorizer {
    public struct LayerReport: Codable, Sendable {
        public var module: String
        public var inFeatures: Int
        public var outFeatures: Int
        /// nil = kept dense.
        public var rank: Int?
        public var energyKept: Double
        public var relativeError: Double
        public var parametersBefore: Int
        public var parametersAfter: Int
    }

    /// A factorised copy of a dense model (GPT-2 or LLaMA); other parameters are copied unchanged.
    static func factorizeModel(_ dense: TrainableLanguageModel, plan: LowRankPlan) throws -> (model: TrainableLanguageModel, report: [LayerReport]) {
        let source = dense.configuration
        guard source.lowRankRanks.isEmpty else {
            throw ModelError.invalidInput("the model is already factorised; factorise its dense original (or merge it first)")
        }
        var ranks: [String: Int] = [:]
        var factors: [String: (b: Tensor, a: Tensor)] = [:]
        var report: [LayerReport] = []
        for m in source.linearModules {
            let w = dense.parameters.pointer(m.name + ".weight")
            let before = m.inFeatures * m.outFeatures
            if let f = try TruncatedSVD.factorize(w, rows: m.outFeatures, columns: m.inFeatures, spec: plan[m.kind], layer: m.name) {
                let r = f.a.shape[0]
                ranks[m.name] = r
                factors[m.name] = (f.b, f.a)
                report.append(LayerReport(module: m.name, inFeatures: m.inFeatures, outFeatures: m.outFeatures, rank: r, energyKept: f.energyKept,
                                          relativeError: f.relativeError, parametersBefore: before, parametersAfter: r * (m.inFeatures + m.outFeatures)))
            } else {
                report.append(LayerReport(module: m.name, inFeatures: m.inFeatures, outFeatures: m.outFeatures, rank: nil, energyKept: 1,
                                          relativeError: 0, parametersBefore: before, parametersAfter: before))
            }
        }
        let model = try source.withLowRankRanks(ranks).makeModel()
        for e in model.parameters.entries where dense.parameters.contains(e.name) {
            model.parameters.pointer(e.name).update(from: dense.parameters.pointer(e.name), count: e.count)
        }
        for (module, f) in factors {
            model.parameters.pointer(module + ".A.weight").update(from: f.a.pointer, count: f.a.count)
            model.parameters.pointer(module + ".B.weight").update(from: f.b.pointer, count: f.b.count)
        }
        return (model, report)
    }

    /// A dense copy of a factorised model (W = B A), for tools that only know dense models.
    static func mergeModel(_ model: TrainableLanguageModel) throws -> TrainableLanguageModel {
        let config = model.configuration
        let dense = try config.withLowRankRanks([:]).makeModel()
        for e in dense.parameters.entries where model.parameters.contains(e.name) {
            dense.parameters.pointer(e.name).update(from: model.parameters.pointer(e.name), count: e.count)
        }
        let ranks = config.lowRankRanks
        for m in config.linearModules {
            guard let r = ranks[m.name] else { continue }
            LowRankLinear.merge(weight: dense.parameters.pointer(m.name + ".weight"), weightA: model.parameters.pointer(m.name + ".A.weight"),
                                weightB: model.parameters.pointer(m.name + ".B.weight"), inFeatures: m.inFeatures, rank: r, outFeatures: m.outFeatures)
        }
        return dense
    }

    /// A factorised copy of a dense model, of the same type (an existential in gives one out).
    public static func factorize<M: TrainableLanguageModel>(_ dense: M, plan: LowRankPlan) throws -> (model: M, report: [LayerReport]) {
        let (model, report) = try factorizeModel(dense, plan: plan)
        guard let typed = model as? M else { throw ModelError.invalidInput("factorisation changed the model type") }
        return (typed, report)
    }

    /// A dense copy of a factorised model (W = B A), of the same type.
    public static func merge<M: TrainableLanguageModel>(_ model: M) throws -> M {
        guard let typed = try mergeModel(model) as? M else { throw ModelError.invalidInput("merging changed the model type") }
        return typed
    }

    /// A table of the per-layer report plus totals.
    public static func render(_ report: [LayerReport], config: ModelConfiguration) -> String {
        let width = max(28, (report.map(\.module.count).max() ?? 0) + 2)
        var s = "module".padding(toLength: width, withPad: " ", startingAt: 0) + "  shape        rank  energy kept  rel. error  params\n"
        for r in report {
            s += r.module.padding(toLength: width, withPad: " ", startingAt: 0)
            s += String(format: "  %4dx%-6d  %5@  %10.4f  %10.4f  %.2fx\n", r.outFeatures, r.inFeatures, r.rank.map { "\($0)" } ?? "dense",
                        r.energyKept, r.relativeError, Double(r.parametersBefore) / Double(max(1, r.parametersAfter)))
        }
        let w = config.linearWeightCounts
        let total = config.parameterCount, denseTotal = total + w.dense - w.actual
        s += String(format: "linear layers: %.2fM -> %.2fM parameters (%.2fx); whole model: %.2fM -> %.2fM (%.2fx)\n",
                    Double(w.dense) / 1e6, Double(w.actual) / 1e6, Double(w.dense) / Double(w.actual),
                    Double(denseTotal) / 1e6, Double(total) / 1e6, Double(denseTotal) / Double(total))
        return s
    }
}
