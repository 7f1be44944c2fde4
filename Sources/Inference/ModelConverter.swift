import Foundation
import IO
import Models
import Quantization
import Tensor
import Tokenizers
import Training

/// Converts LLaMA models between GGUF files and Hugging Face folders (config.json +
/// model.safetensors), re-encoding weights in the chosen type.
public enum ModelConverter {
    public enum Target: String, CaseIterable, Sendable {
        case f32, f16, bf16, q8_0, q4_0, q4_1

        var ggml: GGMLType? {
            switch self {
            case .f32: return .f32
            case .f16: return .f16
            case .q8_0: return .q8_0
            case .q4_0: return .q4_0
            case .q4_1: return .q4_1
            case .bf16: return nil
            }
        }

        var safetensors: SafetensorsWriter.DType? {
            switch self {
            case .f32: return .f32
            case .f16: return .f16
            case .bf16: return .bf16
            default: return nil
            }
        }
    }

    /// Reads `input` (a GGUF file, a Hugging Face folder or a fingpt checkpoint) and writes `output`:
    /// a `.gguf` path, or otherwise a folder that receives config.json and model.safetensors.
    /// Factorised (low-rank) layers are merged into dense weights unless `keepFactors` is set, which
    /// writes the factors (`*.A.weight`, `*.B.weight`) and `low_rank_ranks` into a safetensors folder
    /// that fingpt loads back (transformers does not know factorised layers). Returns a summary line.
    public static func convert(input: String, output: String, target: Target, tokenizerPath: String? = nil,
                               keepFactors: Bool = false) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else { throw IOError.fileNotFound(path: input) }
        var model: LlamaModel
        var tokenizer: BPETokenizer? = try tokenizerPath.map(LanguageModelLoader.tokenizer)
        var chatTemplate: String? = nil
        var name = (input as NSString).lastPathComponent
        if isDir.boolValue {
            model = try HuggingFaceFolder(path: input).loadLlama()
            let tj = (input as NSString).appendingPathComponent("tokenizer.json")
            if tokenizer == nil, FileManager.default.fileExists(atPath: tj) { tokenizer = try LanguageModelLoader.tokenizer(tj) }
        } else if try TrainableModelLoader.isCheckpoint(input) {
            let loaded = try Checkpoint(path: input).loadModel()
            if let gpt2 = loaded as? GPT2Model {
                if output.hasSuffix(".gguf") { return try exportGPT2GGUF(model: gpt2, output: output, target: target, tokenizer: tokenizer, source: input) }
                return try exportGPT2(model: gpt2, output: output, target: target)
            }
            guard let llama = loaded as? LlamaModel else { throw ModelError.invalidConfig("\(input): cannot export a \(loaded.configuration.architecture) checkpoint") }
            model = llama
        } else {
            let gguf = try GGUFFile(path: input)
            model = try GGUFModelLoader.llamaModel(gguf: gguf)
            if tokenizer == nil { tokenizer = try BPETokenizer(gguf: gguf) }
            chatTemplate = try? gguf.string("tokenizer.chat_template")
            if let n = try? gguf.string("general.name") { name = n }
        }
        let factorised = !model.config.lowRankRanks.isEmpty
        if factorised && !(keepFactors && !output.hasSuffix(".gguf")) {
            model = try LowRankFactorizer.merge(model)
        }
        let note = factorised ? (keepFactors && !output.hasSuffix(".gguf") ? " (low-rank factors kept)" : " (low-rank layers merged to dense)") : ""
        try write(model: model, tokenizer: tokenizer, chatTemplate: chatTemplate, name: name, output: output, target: target, source: input)
        return summary(output: output, target: target, parameters: model.config.parameterCount) + note
    }

    /// Base model + LoRA adapter -> one dense model (W + scaling B A) written like `convert` writes
    /// (GGUF quantized to `target`, or a safetensors folder), for tools without adapter support.
    /// LLaMA and GPT-2 bases; factorised layers are merged to dense before the adapter.
    /// From a LLaMA GGUF base into a GGUF file, tensors written in their base type keep the base's
    /// encoding where they can (`MergedTensorEncoder`): unadapted ones are copied byte for byte, and
    /// adapted Q4_0/Q4_1/Q8_0 ones are encoded as `requantization` says (`seed` drives the stochastic
    /// rounding).
    public static func merge(base: String, adapter adapterPath: String, output: String, target: Target,
                             tokenizerPath: String? = nil, requantization: MergeRequantization = .defaultForSameType,
                             seed: UInt64 = 0) throws -> String {
        let loaded = try TrainableModelLoader.load(path: base)
        var tokenizer = try tokenizerPath.map(LanguageModelLoader.tokenizer)
        var chatTemplate: String? = nil
        var name = (base as NSString).lastPathComponent
        var isDir: ObjCBool = false
        var baseGGUF: GGUFFile? = nil
        FileManager.default.fileExists(atPath: base, isDirectory: &isDir)
        if isDir.boolValue {
            let tj = (base as NSString).appendingPathComponent("tokenizer.json")
            if tokenizer == nil, FileManager.default.fileExists(atPath: tj) { tokenizer = try LanguageModelLoader.tokenizer(tj) }
        } else if !(try TrainableModelLoader.isCheckpoint(base)) {
            let gguf = try GGUFFile(path: base)
            baseGGUF = gguf
            if tokenizer == nil { tokenizer = try BPETokenizer(gguf: gguf) }
            chatTemplate = try? gguf.string("tokenizer.chat_template")
            if let n = try? gguf.string("general.name") { name = n + " + LoRA" }
        }
        switch loaded {
        case let model as LlamaModel:
            let merged = model.config.lowRankRanks.isEmpty ? model : try LowRankFactorizer.merge(model)
            let adapter = try LanguageModelLoader.loadAdapter(adapterPath, base: .llama(merged.config))
            try LoRAMerge.merge(adapter, into: merged)
            let baseTensors = output.hasSuffix(".gguf") ? baseGGUF.map { gguf in
                MergedTensorEncoder(base: gguf, adaptedTensors: Set(adapter.modules.compactMap { TensorNameMapping.ggufName(forLlama: $0.weightName) }),
                                    requantization: requantization, seed: seed)
            } : nil
            try write(model: merged, tokenizer: tokenizer, chatTemplate: chatTemplate, name: name, output: output, target: target, source: base,
                      baseTensors: baseTensors)
            return summary(output: output, target: target, parameters: merged.config.parameterCount) + mergeNote(adapter)
                + (baseTensors.map { "; " + $0.summary } ?? "")
        case let model as GPT2Model:
            let merged = model.config.lowRankRanks.isEmpty ? model : try LowRankFactorizer.merge(model)
            let adapter = try LanguageModelLoader.loadAdapter(adapterPath, base: .gpt2(merged.config))
            try LoRAMerge.merge(adapter, into: merged)
            if output.hasSuffix(".gguf") {
                return try exportGPT2GGUF(model: merged, output: output, target: target, tokenizer: tokenizer, source: base) + mergeNote(adapter)
            }
            let written = try exportGPT2(model: merged, output: output, target: target)
            try copyTokenizerJSON(tokenizer, into: output)
            return written + mergeNote(adapter)
        default:
            throw ModelError.invalidConfig("\(base): merging adapters supports LLaMA and GPT-2 models, not \(loaded.configuration.architecture)")
        }
    }

    static func mergeNote(_ adapter: LoRAAdapter) -> String {
        " (LoRA r=\(adapter.config.rank) on \(adapter.modules.count) modules merged)"
    }

    /// Copies the tokenizer's tokenizer.json into the folder `output` (when it was read from one).
    static func copyTokenizerJSON(_ tokenizer: BPETokenizer?, into output: String) throws {
        guard let tokenizer, tokenizer.source.hasSuffix("tokenizer.json"), FileManager.default.fileExists(atPath: tokenizer.source) else { return }
        let dst = (output as NSString).appendingPathComponent("tokenizer.json")
        if tokenizer.source != dst { try AtomicFile.write(try Data(contentsOf: URL(fileURLWithPath: tokenizer.source)), to: dst) }
    }

    /// Writes a LLaMA model as GGUF (path ending in .gguf) or as a Hugging Face safetensors folder.
    static func write(model: LlamaModel, tokenizer: BPETokenizer?, chatTemplate: String?, name: String, output: String,
                      target: Target, source: String, baseTensors: MergedTensorEncoder? = nil) throws {
        if output.hasSuffix(".gguf") {
            guard let type = target.ggml else { throw ModelError.invalidInput("GGUF output supports \(Target.allCases.filter { $0.ggml != nil }.map(\.rawValue)), not \(target.rawValue)") }
            guard let tokenizer else { throw ModelError.invalidInput("\(source): no tokenizer found; pass --tokenizer (a GGUF file or tokenizer.json)") }
            try GGUFExporter.writeLlama(model: model, tokenizer: tokenizer, type: type, name: name, chatTemplate: chatTemplate,
                                        baseTensors: baseTensors, to: output)
        } else {
            guard let dtype = target.safetensors else { throw ModelError.invalidInput("safetensors output supports f32, f16 and bf16, not \(target.rawValue)") }
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            var config = try JSONSerialization.jsonObject(with: JSONEncoder().encode(model.config)) as! [String: Any]
            config["model_type"] = "llama"
            config["architectures"] = ["LlamaForCausalLM"]
            config["torch_dtype"] = ["f32": "float32", "f16": "float16", "bf16": "bfloat16"][target.rawValue]
            if config["head_dim"] == nil { config["head_dim"] = model.config.headDim }
            try AtomicFile.write(try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]),
                                 to: (output as NSString).appendingPathComponent("config.json"))
            var w = SafetensorsWriter(metadata: ["format": "pt"])
            for e in model.parameters.entries { w.add(e.name, model.parameters[e.name]) }
            try w.write(to: (output as NSString).appendingPathComponent("model.safetensors"), dtype: dtype)
            try copyTokenizerJSON(tokenizer, into: output)
        }
    }

    /// A fingpt GPT-2 checkpoint as a Hugging Face GPT-2 folder (Conv1D weights stored [in, out], as
    /// transformers' GPT2LMHeadModel expects). Factorised layers are merged into dense weights
    /// (W = B A), since transformers has no factorised GPT-2.
    /// A fingpt GPT-2 checkpoint as GGUF for llama.cpp (factorised layers merged to dense).
    static func exportGPT2GGUF(model factorised: GPT2Model, output: String, target: Target, tokenizer: BPETokenizer?, source: String) throws -> String {
        guard let type = target.ggml else { throw ModelError.invalidInput("GGUF output supports \(Target.allCases.filter { $0.ggml != nil }.map(\.rawValue)), not \(target.rawValue)") }
        guard let tokenizer else { throw ModelError.invalidInput("\(source): a checkpoint has no tokenizer; pass --tokenizer (a GGUF file or tokenizer.json)") }
        let merged = factorised.config.lowRankRanks.isEmpty ? factorised : try LowRankFactorizer.merge(factorised)
        try GGUFExporter.writeGPT2(model: merged, tokenizer: tokenizer, type: type, name: (source as NSString).lastPathComponent, to: output)
        return summary(output: output, target: target, parameters: merged.config.parameterCount)
            + (factorised.config.lowRankRanks.isEmpty ? "" : " (low-rank layers merged to dense)")
    }

    static func exportGPT2(model factorised: GPT2Model, output: String, target: Target) throws -> String {
        guard let dtype = target.safetensors, !output.hasSuffix(".gguf") else {
            throw ModelError.invalidInput("GPT-2 checkpoints export to Hugging Face folders (f32, f16, bf16); GGUF export is for LLaMA models")
        }
        var model = factorised
        let merged = !model.config.lowRankRanks.isEmpty
        if merged, let dense = try LowRankFactorizer.merge(model) as? GPT2Model { model = dense }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var config = try JSONSerialization.jsonObject(with: JSONEncoder().encode(model.config)) as! [String: Any]
        config["model_type"] = "gpt2"
        config["architectures"] = ["GPT2LMHeadModel"]
        config["n_ctx"] = model.config.contextLength
        config["activation_function"] = "gelu_new"
        config["tie_word_embeddings"] = true
        if model.config.vocabSize != 50257 {
            // models pretrained on `fingpt prepare` shards: documents are separated by the tokenizer's
            // <|endoftext|>, id 0 in SmolLM2's vocabulary (transformers' GPT-2 default, 50256, is out of range)
            config["bos_token_id"] = 0
            config["eos_token_id"] = 0
        }
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]),
                             to: (output as NSString).appendingPathComponent("config.json"))
        var w = SafetensorsWriter(metadata: ["format": "pt"])
        for e in model.parameters.entries {
            let t = model.parameters[e.name]
            if e.shape.count == 2 && (e.name.contains(".attn.") || e.name.contains(".mlp.")) {
                let (rows, cols) = (e.shape[0], e.shape[1])
                let conv = Tensor(zeros: [cols, rows])
                for i in 0..<rows { for j in 0..<cols { conv[j * rows + i] = t[i * cols + j] } }
                w.add(e.name, conv)
            } else {
                w.add(e.name, t)
            }
        }
        try w.write(to: (output as NSString).appendingPathComponent("model.safetensors"), dtype: dtype)
        return summary(output: output, target: target, parameters: model.config.parameterCount) + (merged ? " (low-rank layers merged to dense)" : "")
    }

    static func summary(output: String, target: Target, parameters: Int) -> String {
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: output.hasSuffix(".gguf") ? output : (output as NSString).appendingPathComponent("model.safetensors")))?[.size] as? NSNumber)?.intValue ?? 0
        return String(format: "wrote %@ (%@, %.1f MB, %.2fM parameters)", output, target.rawValue, Double(bytes) / 1e6, Double(parameters) / 1e6)
    }
}
