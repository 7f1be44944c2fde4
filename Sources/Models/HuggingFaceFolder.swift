import Foundation
import IO
import Tensor

/// A Hugging Face model folder: `config.json`, weights in `model.safetensors` or sharded with
/// `model.safetensors.index.json`, and usually `tokenizer.json`.
public struct HuggingFaceFolder {
    public let path: String
    public let modelType: String
    public let configData: Data
    /// Tensor name -> the safetensors file holding it.
    let files: [String: SafetensorsFile]

    public init(path: String) throws {
        self.path = path
        let configPath = (path as NSString).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configPath) else { throw IOError.fileNotFound(path: configPath) }
        configData = try Data(contentsOf: URL(fileURLWithPath: configPath))
        guard let obj = try? JSONSerialization.jsonObject(with: configData) as? [String: Any] else {
            throw IOError.invalidValue(file: configPath, offset: 0, key: "config", reason: "not a JSON object")
        }
        guard let type = obj["model_type"] as? String else { throw IOError.missingKey(file: configPath, key: "model_type") }
        modelType = type
        let single = (path as NSString).appendingPathComponent("model.safetensors")
        let index = (path as NSString).appendingPathComponent("model.safetensors.index.json")
        var files: [String: SafetensorsFile] = [:]
        if FileManager.default.fileExists(atPath: single) {
            let f = try SafetensorsFile(path: single)
            for n in f.names { files[n] = f }
        } else if FileManager.default.fileExists(atPath: index) {
            guard let idx = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: index))) as? [String: Any],
                  let map = idx["weight_map"] as? [String: String] else {
                throw IOError.invalidValue(file: index, offset: 0, key: "weight_map", reason: "missing or not an object of strings")
            }
            var opened: [String: SafetensorsFile] = [:]
            for (name, file) in map {
                if opened[file] == nil { opened[file] = try SafetensorsFile(path: (path as NSString).appendingPathComponent(file)) }
                guard opened[file]!.entries[name] != nil else { throw IOError.missingTensor(file: opened[file]!.path, name: name) }
                files[name] = opened[file]
            }
        } else {
            throw IOError.fileNotFound(path: single + " (or model.safetensors.index.json)")
        }
        self.files = files
    }

    public var tensorNames: [String] { files.keys.sorted() }

    public func tensor(_ name: String) throws -> Tensor {
        guard let f = files[name] else { throw IOError.missingTensor(file: path, name: name) }
        return try f.tensor(name)
    }

    public func llamaConfig() throws -> LlamaConfig {
        do { return try JSONDecoder().decode(LlamaConfig.self, from: configData) } catch {
            throw ModelError.invalidConfig("\(path)/config.json: \(error)")
        }
    }

    /// Builds a float32 LLaMA model from the folder's weights.
    public func loadLlama() throws -> LlamaModel {
        guard ["llama", "mistral", "qwen2"].contains(modelType) || modelType.hasPrefix("llama") else {
            throw ModelError.invalidConfig("\(path): model_type '\(modelType)' is not a LLaMA-architecture model")
        }
        let model = try LlamaModel(config: try llamaConfig())
        for e in model.parameters.entries {
            let t = try tensor(e.name)
            guard t.shape == e.shape else {
                throw ModelError.invalidConfig("\(path): tensor \(e.name) has shape \(t.shape), the config needs \(e.shape)")
            }
            model.parameters.pointer(e.name).update(from: t.pointer, count: t.count)
        }
        return model
    }

    /// Builds a float32 GPT-2 model (Hugging Face stores Conv1D weights as [in, out]; they are transposed).
    public func loadGPT2() throws -> GPT2Model {
        guard modelType == "gpt2" else { throw ModelError.invalidConfig("\(path): model_type '\(modelType)' is not gpt2") }
        let config: GPT2Config
        do { config = try JSONDecoder().decode(GPT2Config.self, from: configData) } catch {
            throw ModelError.invalidConfig("\(path)/config.json: \(error)")
        }
        let model = try GPT2Model(config: config)
        let prefix = files["transformer.wte.weight"] != nil ? "" : "transformer."
        for e in model.parameters.entries {
            let hfName = prefix.isEmpty ? e.name : String(e.name.dropFirst(prefix.count))
            let t = try tensor(hfName)
            let isConv1D = e.shape.count == 2 && (e.name.contains(".attn.") || e.name.contains(".mlp."))
            if isConv1D {
                guard t.shape == [e.shape[1], e.shape[0]] else {
                    throw ModelError.invalidConfig("\(path): tensor \(hfName) has shape \(t.shape), expected \([e.shape[1], e.shape[0]])")
                }
                let dst = model.parameters.pointer(e.name)
                let rows = e.shape[0], cols = e.shape[1]
                for i in 0..<cols { for j in 0..<rows { dst[j * cols + i] = t.pointer[i * rows + j] } }
            } else {
                guard t.shape == e.shape else {
                    throw ModelError.invalidConfig("\(path): tensor \(hfName) has shape \(t.shape), expected \(e.shape)")
                }
                model.parameters.pointer(e.name).update(from: t.pointer, count: t.count)
            }
        }
        return model
    }
}
