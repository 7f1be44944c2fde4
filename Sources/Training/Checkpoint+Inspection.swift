import Foundation
import Models

extension Checkpoint {
    /// The checkpoint as an inspection report (config, step, tensor table).
    public var inspection: ModelInspection.Report {
        let h = header
        var meta: [(String, String)] = [("architecture", h.architecture), ("step", "\(h.step)"), ("optimizer step", "\(h.optimizerStep)"),
                                        ("sections", h.sections.joined(separator: ", ")), ("created", h.created)]
        if let data = try? JSONEncoder().encode(h.model) { meta.append(("model config", String(decoding: data, as: UTF8.self))) }
        let rows = h.tensors.map { ModelInspection.TensorRow(name: $0.name, shape: $0.shape, type: "F32", bytes: $0.shape.reduce(4, *), form: "") }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        return ModelInspection.Report(path: path, format: "fingpt checkpoint v\(Checkpoint.version)", metadata: meta, tensors: rows, fileBytes: size)
    }
}
