import Foundation
import IO
import Models
import Tokenizers
import Training

/// A model ready for generation, chat and scoring, with its tokenizer.
public struct LoadedLanguageModel {
    public let model: CausalLanguageModel
    public let tokenizer: BPETokenizer
    public let description: String
    /// Bytes of weights the model computes from (quantized sizes for quantized weights).
    public let weightBytes: Int
}

/// Opens any supported model: a GGUF file (LLaMA runs on its stored quantized weights; GPT-2 is
/// dequantized), a Hugging Face folder (LLaMA or GPT-2, tokenizer.json), or a fingpt checkpoint.
/// `tokenizerPath` (GGUF or tokenizer.json) overrides or supplies the tokenizer.
public enum LanguageModelLoader {
    /// With `adapterPath` (a PEFT adapter folder, a `fingpt finetune` output folder or its
    /// checkpoint), a LoRA adapter is added on top: to a LLaMA model's weights, which stay as stored;
    /// into a GPT-2 model's float32 weights (W + scaling B A, factorised layers merged to dense first).
    public static func load(path: String, tokenizerPath: String? = nil, maxContext: Int? = nil, adapterPath: String?) throws -> LoadedLanguageModel {
        let loaded = try load(path: path, tokenizerPath: tokenizerPath, maxContext: maxContext)
        guard let adapterPath else { return loaded }
        switch loaded.model {
        case let runner as LlamaRunner:
            let adapter = try loadAdapter(adapterPath, base: .llama(runner.config))
            return LoadedLanguageModel(model: try runner.adapted(by: adapter), tokenizer: loaded.tokenizer,
                                       description: loaded.description + " + LoRA r=\(adapter.config.rank) (\(adapter.modules.count) modules)",
                                       weightBytes: loaded.weightBytes + adapter.parameters.buffer.byteCount)
        case let runner as GPT2Runner:
            let model = runner.model.config.lowRankRanks.isEmpty ? runner.model : try LowRankFactorizer.merge(runner.model)
            let adapter = try loadAdapter(adapterPath, base: .gpt2(model.config))
            try LoRAMerge.merge(adapter, into: model)
            return LoadedLanguageModel(model: GPT2Runner(model: model), tokenizer: loaded.tokenizer,
                                       description: loaded.description + " + LoRA r=\(adapter.config.rank) (\(adapter.modules.count) modules, merged)",
                                       weightBytes: model.parameters.buffer.byteCount)
        default:
            throw ModelError.invalidInput("\(path): LoRA adapters are supported for LLaMA and GPT-2 models")
        }
    }

    /// A LoRA adapter from a PEFT folder (adapter_config.json + adapter_model.safetensors), a
    /// finetune output folder (its adapter/ subfolder) or a finetune checkpoint, checked against `base`.
    public static func loadAdapter(_ path: String, base: LoRABaseModel) throws -> LoRAAdapter {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw IOError.fileNotFound(path: path) }
        if isDir.boolValue {
            let nested = (path as NSString).appendingPathComponent("adapter")
            let config = (path as NSString).appendingPathComponent(LoRAPEFTFormat.configFileName)
            if !FileManager.default.fileExists(atPath: config), FileManager.default.fileExists(atPath: nested) {
                return try LoRAPEFTFormat.load(from: nested, base: base)
            }
            return try LoRAPEFTFormat.load(from: path, base: base)
        }
        let adapter = try Checkpoint(path: path).loadAdapter()
        try adapter.validate(against: base)
        return adapter
    }

    /// The same for a LLaMA base.
    public static func loadAdapter(_ path: String, base: LlamaConfig) throws -> LoRAAdapter {
        try loadAdapter(path, base: .llama(base))
    }

    public static func load(path: String, tokenizerPath: String? = nil, maxContext: Int? = nil) throws -> LoadedLanguageModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw IOError.fileNotFound(path: path) }
        if isDir.boolValue {
            let folder = try HuggingFaceFolder(path: path)
            let tok = try tokenizer(tokenizerPath ?? (path as NSString).appendingPathComponent("tokenizer.json"))
            if folder.modelType == "gpt2" {
                let m = try folder.loadGPT2()
                return LoadedLanguageModel(model: GPT2Runner(model: m), tokenizer: tok, description: "GPT-2 (Hugging Face folder)",
                                           weightBytes: m.parameters.buffer.byteCount)
            }
            let m = try folder.loadLlama()
            return LoadedLanguageModel(model: try LlamaRunner(model: m, maxContext: maxContext), tokenizer: tok,
                                       description: "LLaMA (Hugging Face folder, float32)", weightBytes: m.parameters.buffer.byteCount)
        }
        let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readData(ofLength: 8)
        if head == Data("FGPTCKPT".utf8) {
            guard let tokenizerPath else { throw ModelError.invalidInput("\(path) is a checkpoint: pass the tokenizer (--tokenizer MODEL.gguf)") }
            let m = try Checkpoint(path: path).loadModel()
            let low = m.configuration.lowRankRanks.isEmpty ? "" : ", \(m.configuration.lowRankRanks.count) low-rank layers"
            let runner: CausalLanguageModel
            switch m {
            case let g as GPT2Model: runner = GPT2Runner(model: g)
            case let l as LlamaModel: runner = try LlamaRunner(model: l, maxContext: maxContext)
            default: throw ModelError.invalidConfig("\(path): no runner for a \(m.configuration.architecture) checkpoint")
            }
            return LoadedLanguageModel(model: runner, tokenizer: try tokenizer(tokenizerPath),
                                       description: (m is GPT2Model ? "GPT-2" : "LLaMA") + " (fingpt checkpoint\(low))",
                                       weightBytes: m.parameters.buffer.byteCount)
        }
        let gguf = try GGUFFile(path: path)
        let tok = try tokenizerPath.map(tokenizer) ?? BPETokenizer(gguf: gguf)
        switch gguf.architecture {
        case "llama":
            let runner = try GGUFModelLoader.llamaRunner(gguf: gguf, maxContext: maxContext)
            let types = Set(gguf.tensors.filter { $0.name.hasSuffix(".weight") && $0.dimensions.count == 2 }.map { "\($0.type)" }).sorted()
            return LoadedLanguageModel(model: runner, tokenizer: tok, description: "LLaMA (GGUF, weights \(types.joined(separator: "/")))",
                                       weightBytes: runner.weightBytes)
        case "gpt2":
            let m = try GPT2Model(gguf: gguf)
            return LoadedLanguageModel(model: GPT2Runner(model: m), tokenizer: tok, description: "GPT-2 (GGUF, dequantized to float32)",
                                       weightBytes: m.parameters.buffer.byteCount)
        default:
            throw ModelError.invalidConfig("\(path): architecture '\(gguf.architecture ?? "none")' is not supported for inference (supported: llama, gpt2)")
        }
    }

    static func tokenizer(_ path: String) throws -> BPETokenizer {
        if path.hasSuffix(".json") { return try BPETokenizer(tokenizerJSONPath: path) }
        return try BPETokenizer(ggufPath: path)
    }
}
