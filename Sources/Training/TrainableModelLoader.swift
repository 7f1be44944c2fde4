import Foundation
import IO
import Models

/// Opens any model file as a float32 trainable model: a fingpt checkpoint (GPT-2 or LLaMA, dense or
/// factorised), a GGUF file (LLaMA, dequantized), or a Hugging Face folder (LLaMA or GPT-2).
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
            guard gguf.architecture == "llama" else {
                throw ModelError.invalidConfig("\(path): architecture '\(gguf.architecture ?? "none")' cannot be trained from GGUF (supported: llama)")
            }
            model = try GGUFModelLoader.llamaModel(gguf: gguf)
        }
        model.recompute = recompute
        return model
    }

    /// True when the file starts with the checkpoint magic.
    public static func isCheckpoint(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw IOError.fileNotFound(path: path) }
        defer { try? handle.close() }
        return handle.readData(ofLength: 8) == Data("FGPTCKPT".utf8)
    }
}
