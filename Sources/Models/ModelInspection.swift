import Foundation
import IO

/// A human-readable description of a model file: format, metadata, tensor table, parameter count
/// and size. Reads GGUF files, safetensors files, Hugging Face folders and our checkpoints' headers.
public enum ModelInspection {
    public struct TensorRow: Sendable {
        public init(name: String, shape: [Int], type: String, bytes: Int, form: String) {
            self.name = name; self.shape = shape; self.type = type; self.bytes = bytes; self.form = form
        }
        public var name: String
        public var shape: [Int]
        public var type: String
        public var bytes: Int
        public var form: String
    }

    public struct Report: Sendable {
        public var path: String
        public var format: String
        public var metadata: [(String, String)]
        public var tensors: [TensorRow]
        public var fileBytes: Int
        public var parameterCount: Int { tensors.reduce(0) { $0 + $1.shape.reduce(1, *) } }

        public init(path: String, format: String, metadata: [(String, String)], tensors: [TensorRow], fileBytes: Int) {
            self.path = path; self.format = format; self.metadata = metadata; self.tensors = tensors; self.fileBytes = fileBytes
        }

        public func render(maxMetadataValue: Int = 80) -> String {
            var s = "\(path)\nformat: \(format), \(tensors.count) tensors, \(formatCount(parameterCount)) parameters, "
            s += String(format: "%.1f MB on disk\n", Double(fileBytes) / 1e6)
            if !metadata.isEmpty {
                s += "\nmetadata:\n"
                for (k, v) in metadata {
                    let short = v.count > maxMetadataValue ? String(v.prefix(maxMetadataValue)) + "…" : v
                    s += "  \(k) = \(short)\n"
                }
            }
            s += "\ntensors:\n"
            let w = min(60, tensors.map(\.name.count).max() ?? 10)
            for t in tensors {
                s += "  " + t.name.padding(toLength: w, withPad: " ", startingAt: 0) + "  "
                s += "\(t.shape)".padding(toLength: 16, withPad: " ", startingAt: 0) + "  "
                s += t.type.padding(toLength: 6, withPad: " ", startingAt: 0) + String(format: " %10.2f MB", Double(t.bytes) / 1e6)
                s += t.form.isEmpty ? "\n" : "  \(t.form)\n"
            }
            return s
        }

        func formatCount(_ n: Int) -> String {
            n >= 1_000_000 ? String(format: "%.2fM", Double(n) / 1e6) : "\(n)"
        }
    }

    public static func inspect(path: String) throws -> Report {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw IOError.fileNotFound(path: path) }
        if isDir.boolValue {
            let folder = try HuggingFaceFolder(path: path)
            var rows: [TensorRow] = []
            for name in folder.tensorNames {
                let f = folder.files[name]!, e = f.entries[name]!
                rows.append(TensorRow(name: name, shape: e.shape, type: e.dtype, bytes: e.end - e.begin, form: ""))
            }
            let cfg = String(decoding: folder.configData, as: UTF8.self)
            return Report(path: path, format: "Hugging Face folder (\(folder.modelType))", metadata: [("config.json", cfg)],
                          tensors: rows, fileBytes: Set(folder.files.values.map { $0.path }).reduce(0) { $0 + fileSize($1) })
        }
        let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readData(ofLength: 8)
        if head.prefix(4) == Data("GGUF".utf8) {
            let g = try GGUFFile(path: path)
            let meta = g.metadataKeys.map { k -> (String, String) in
                let v = g.metadata[k]!
                if let arr = v.arrayValue { return (k, "[\(arr.count) × \(arr.first?.typeName ?? "?")]") }
                return (k, v.description)
            }
            let rows = g.tensors.map { TensorRow(name: $0.name, shape: $0.rowMajorShape, type: "\($0.type)", bytes: $0.byteCount, form: "") }
            return Report(path: path, format: "GGUF v\(g.version)", metadata: meta, tensors: rows, fileBytes: g.fileSize)
        }
        if head == Data("FGPTCKPT".utf8) {
            throw ModelError.invalidInput("\(path) is a training checkpoint; inspect it through the Training module (fingpt inspect does)")
        }
        let st = try SafetensorsFile(path: path)
        let rows = st.names.map { n -> TensorRow in
            let e = st.entries[n]!
            return TensorRow(name: n, shape: e.shape, type: e.dtype, bytes: e.end - e.begin, form: "")
        }
        return Report(path: path, format: "safetensors", metadata: st.metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                      tensors: rows, fileBytes: fileSize(path))
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
