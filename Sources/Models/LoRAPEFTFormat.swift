import Foundation
import IO
import Tensor

/// PEFT's on-disk adapter format: a folder with `adapter_config.json` (see `LoRAConfig`) and
/// `adapter_model.safetensors` holding `base_model.model.<module path>.lora_A.weight` [r, in] and
/// `.lora_B.weight` [out, r] for every adapted module. Hugging Face PEFT loads such a folder with
/// `PeftModel.from_pretrained(base, folder)`, and llama.cpp's convert_lora_to_gguf.py converts it.
public enum LoRAPEFTFormat {
    public static let configFileName = "adapter_config.json"
    public static let weightsFileName = "adapter_model.safetensors"
    /// Prefix PEFT puts before module paths in saved keys (PeftModel -> LoraModel -> the base model).
    public static let keyPrefix = "base_model.model."

    /// Writes the adapter to `directory` (created when needed). Each file is written atomically, the
    /// weights before the config, so a reader never sees a half-written file.
    public static func save(_ adapter: LoRAAdapter, to directory: String, dtype: SafetensorsWriter.DType = .f32) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for m in adapter.modules {
            writer.add(keyPrefix + m.aName, adapter.a(m))
            writer.add(keyPrefix + m.bName, adapter.b(m))
        }
        try writer.write(to: (directory as NSString).appendingPathComponent(weightsFileName), dtype: dtype)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(adapter.config), to: (directory as NSString).appendingPathComponent(configFileName))
    }

    /// Reads `adapter_config.json`, with errors naming the file and the offending key.
    public static func readConfig(_ path: String) throws -> LoRAConfig {
        guard FileManager.default.fileExists(atPath: path) else { throw IOError.fileNotFound(path: path) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw IOError.unreadable(path: path, reason: error.localizedDescription)
        }
        do {
            return try JSONDecoder().decode(LoRAConfig.self, from: data)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw LoRAError.invalidConfig(source: path, key: keyPath(ctx.codingPath + [key]), reason: "required key is missing")
        } catch let DecodingError.typeMismatch(type, ctx) {
            throw LoRAError.invalidConfig(source: path, key: keyPath(ctx.codingPath), reason: "expected a value of type \(type)")
        } catch let DecodingError.valueNotFound(type, ctx) {
            throw LoRAError.invalidConfig(source: path, key: keyPath(ctx.codingPath), reason: "is null, expected a value of type \(type)")
        } catch let DecodingError.dataCorrupted(ctx) {
            if ctx.codingPath.isEmpty {
                throw LoRAError.invalidConfig(source: path, key: "(file)", reason: "not valid JSON")
            }
            throw LoRAError.invalidConfig(source: path, key: keyPath(ctx.codingPath), reason: ctx.debugDescription)
        }
    }

    /// Loads the adapter in `directory` for `base`, checking that every module the config targets has
    /// both factors with shapes [r, in] and [out, r], that no tensor names anything else, and that
    /// the factors are F32, F16 or BF16 (converted to float32).
    public static func load(from directory: String, base: LoRABaseModel) throws -> LoRAAdapter {
        let configPath = (directory as NSString).appendingPathComponent(configFileName)
        let config = try readConfig(configPath)
        let adapter: LoRAAdapter
        do {
            adapter = try LoRAAdapter(config: config, base: base)
        } catch let LoRAError.invalidConfig(_, key, reason) {
            throw LoRAError.invalidConfig(source: configPath, key: key, reason: reason)
        }
        let file = try SafetensorsFile(path: (directory as NSString).appendingPathComponent(weightsFileName))
        try checkNoStrayTensors(file, adapter: adapter)
        for m in adapter.modules {
            try read(file, key: keyPrefix + m.aName, into: adapter.a(m), rankAxis: 0, rank: config.rank)
            try read(file, key: keyPrefix + m.bName, into: adapter.b(m), rankAxis: 1, rank: config.rank)
        }
        return adapter
    }

    /// Every tensor in the file must be a factor of a module the adapter has.
    static func checkNoStrayTensors(_ file: SafetensorsFile, adapter: LoRAAdapter) throws {
        let known = Dictionary(uniqueKeysWithValues: adapter.base.allModules.map { ($0.path, $0) })
        for key in file.names {
            guard key.hasPrefix(keyPrefix), let suffix = [".lora_A.weight", ".lora_B.weight"].first(where: { key.hasSuffix($0) }) else {
                throw LoRAError.unknownModule(file: file.path, key: key, reason: "not a LoRA factor (expected '\(keyPrefix)<module>.lora_A.weight' or '.lora_B.weight')")
            }
            let path = String(key.dropFirst(keyPrefix.count).dropLast(suffix.count))
            guard let module = known[path] else {
                throw LoRAError.unknownModule(file: file.path, key: key, reason: "'\(path)' is not an adaptable linear module of this \(adapter.base.architecture) model")
            }
            guard adapter.module(named: path) != nil else {
                let why = adapter.config.targets.contains(module.target)
                    ? "block \(module.layer) is not in layers_to_transform of the adapter config"
                    : "'\(module.target.peftName)' is not in target_modules of the adapter config"
                throw LoRAError.unknownModule(file: file.path, key: key, reason: why)
            }
        }
    }

    /// Copies tensor `key` into `destination` after checking dtype, rank and shape.
    static func read(_ file: SafetensorsFile, key: String, into destination: Tensor, rankAxis: Int, rank: Int) throws {
        guard let entry = file.entries[key] else { throw LoRAError.missingTensor(file: file.path, key: key) }
        guard ["F32", "F16", "BF16"].contains(entry.dtype) else {
            throw LoRAError.unsupportedDType(file: file.path, key: key, dtype: entry.dtype)
        }
        guard entry.shape.count == 2 else {
            throw LoRAError.shapeMismatch(file: file.path, key: key, expected: destination.shape, found: entry.shape)
        }
        let otherAxis = 1 - rankAxis
        if entry.shape[otherAxis] == destination.shape[otherAxis], entry.shape[rankAxis] != rank {
            throw LoRAError.rankMismatch(file: file.path, key: key, configured: rank, found: entry.shape[rankAxis])
        }
        guard entry.shape == destination.shape else {
            throw LoRAError.shapeMismatch(file: file.path, key: key, expected: destination.shape, found: entry.shape)
        }
        let values = try file.floats(key)
        destination.pointer.update(from: values, count: values.count)
    }

    static func keyPath(_ path: [CodingKey]) -> String {
        if path.isEmpty { return "(top level)" }
        return path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
