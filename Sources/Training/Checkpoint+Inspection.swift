import Foundation
import Models

extension Checkpoint {
    /// The checkpoint as an inspection report (config, step, tensor table).
    public var inspection: ModelInspection.Report {
        let h = header
        var meta: [(String, String)] = [("architecture", h.architecture), ("step", "\(h.step)"), ("optimizer step", "\(h.optimizerStep)"),
                                        ("sections", h.sections.joined(separator: ", ")), ("created", h.created)]
        if let data = try? JSONEncoder().encode(h.model) { meta.append(("model config", String(decoding: data, as: UTF8.self))) }
        let c = h.model
        if !c.lowRankRanks.isEmpty {
            meta.append(("low-rank layers", "\(c.lowRankRanks.count) of \(c.linearModules.count) block linears factorised"))
            meta.append(("compression", String(format: "linear layers %.2fx (%.2fM -> %.2fM), whole model %.2fx",
                                               Double(c.denseLinearParameterCount) / Double(c.linearParameterCount),
                                               Double(c.denseLinearParameterCount) / 1e6, Double(c.linearParameterCount) / 1e6,
                                               Double(c.parameterCount + c.denseLinearParameterCount - c.linearParameterCount) / Double(c.parameterCount))))
        }
        let rows = h.tensors.map { t -> ModelInspection.TensorRow in
            var form = ""
            if t.name.hasSuffix(".A.weight") || t.name.hasSuffix(".B.weight") {
                let module = String(t.name.dropLast(".A.weight".count))
                if let r = c.lowRankRanks[module] { form = t.name.hasSuffix(".A.weight") ? "low-rank r=\(r) (in -> r)" : "low-rank r=\(r) (r -> out)" }
            } else if t.shape.count == 2 && t.name.hasSuffix(".weight") && !t.name.contains("wte") && !t.name.contains("wpe") {
                form = "dense"
            }
            return ModelInspection.TensorRow(name: t.name, shape: t.shape, type: "F32", bytes: t.shape.reduce(4, *), form: form)
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        return ModelInspection.Report(path: path, format: "fingpt checkpoint v\(Checkpoint.version)", metadata: meta, tensors: rows, fileBytes: size)
    }
}
