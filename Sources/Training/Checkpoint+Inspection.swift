import Foundation
import Models

extension Checkpoint {
    /// The checkpoint as an inspection report (config, step, tensor table with each layer's form).
    public var inspection: ModelInspection.Report {
        let h = header
        var meta: [(String, String)] = [("architecture", h.architecture), ("step", "\(h.step)"), ("optimizer step", "\(h.optimizerStep)"),
                                        ("sections", h.sections.joined(separator: ", ")), ("created", h.created)]
        if let data = try? h.model.json() { meta.append(("model config", String(decoding: data, as: UTF8.self))) }
        let c = h.model
        let ranks = c.lowRankRanks
        let modules = Set(c.linearModules.map(\.name))
        if !ranks.isEmpty {
            let w = c.linearWeightCounts
            meta.append(("low-rank layers", "\(ranks.count) of \(modules.count) block linears factorised"))
            meta.append(("compression", String(format: "linear layers %.2fx (%.2fM -> %.2fM), whole model %.2fx",
                                               Double(w.dense) / Double(w.actual), Double(w.dense) / 1e6, Double(w.actual) / 1e6,
                                               Double(c.parameterCount + w.dense - w.actual) / Double(c.parameterCount))))
        }
        let rows = h.tensors.map { t -> ModelInspection.TensorRow in
            var form = ""
            if t.name.hasSuffix(".A.weight") || t.name.hasSuffix(".B.weight") {
                let module = String(t.name.dropLast(".A.weight".count))
                if let r = ranks[module] { form = t.name.hasSuffix(".A.weight") ? "low-rank r=\(r) (in -> r)" : "low-rank r=\(r) (r -> out)" }
            } else if t.shape.count == 2 && t.name.hasSuffix(".weight") && modules.contains(String(t.name.dropLast(".weight".count))) {
                form = "dense"
            }
            return ModelInspection.TensorRow(name: t.name, shape: t.shape, type: "F32", bytes: t.shape.reduce(4, *), form: form)
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        return ModelInspection.Report(path: path, format: "fingpt checkpoint v\(Checkpoint.version)", metadata: meta, tensors: rows, fileBytes: size)
    }
}
