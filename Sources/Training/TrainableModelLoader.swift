import Foundation
import IO
import Models

/// Opens any model file as a float32 trainable model: a fingpt checkpoint (GPT-2 or LLaMA, dense or
/// factorised), a GGUF file (LLaMA or GPT-2, dequantized), or a Hugging Face folder (LLaMA or GPT-2).
public enum TrainableModelLoader {
    public static func load(path: String, recompute: Bool = false) throws -> TrainableLanguageModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw IOError.fileNotFound(path: path) }
        let model: TrainableLanguageModel
        if isDir.boolValue {
            let folder = try HuggingFaceFolder(path: path)
            model = folder.modelType == "gpt2" ? try folder.loadGPT2() : try folder.loadLlama()
        } else if try isCheckpoint(path) {
            model = try Checkpoint(path: path).loadModel()
        } else {
            let gguf = try GGUFFile(path: path)
            switch gguf.architecture {
            case "llama": model = try GGUFModelLoader.llamaModel(gguf: gguf)
            case "gpt2": model = try GPT2Model(gguf: gguf)
            default:
                throw ModelError.invalidConfig("\(path): architecture '\(gguf.architecture ?? "none")' cannot be trained from GGUF (supported: llama, gpt2)")
            }
        }
        model.recompute = recompute
        return model
    }

    /// The architecture ("llama" or "gpt2") of a model file, read from its header or config without
    /// loading any weights.
    public static func architecture(path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw IOError.fileNotFound(path: path) }
        if isDir.boolValue { return try HuggingFaceFolder(path: path).modelType == "gpt2" ? "gpt2" : "llama" }
        if try isCheckpoint(path) { return try Checkpoint(path: path).header.model.architecture }
        let gguf = try GGUFFile(path: path)
        guard let arch = gguf.architecture else { throw IOError.missingKey(file: path, key: "general.architecture") }
        return arch
    }

    /// True when the file starts with the checkpoint magic.
    public static func isCheckpoint(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw IOError.fileNotFound(path: path) }
        defer { try? handle.close() }
        return handle.readData(ofLength: 8) == Data("FGPTCKPT".utf8)
    }
}
