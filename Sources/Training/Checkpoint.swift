import Foundation
import IO
import Models
import Optim
import Tensor

/// A training checkpoint: model weights, AdamW moments, step counters, data position and RNG state.
///
/// Layout: the 8 bytes `FGPTCKPT`, u32 version, u32 zero, u64 JSON header length, the JSON header,
/// zero padding to a multiple of 64, then float32 sections in the order the header lists them
/// (`parameters`, and for training checkpoints `adam.m`, `adam.v`), each `parameterBufferCount` floats.
/// Files are written to a temporary file and renamed, so a crash never leaves a half-written checkpoint.
public struct Checkpoint {
    public struct TensorRecord: Codable, Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var offset: Int
    }

    public struct Header: Codable, Sendable {
        public var architecture: String { model.architecture }
        public var model: ModelConfiguration
        public var training: TrainingConfig?
        /// Number of completed optimizer steps.
        public var step: Int
        public var optimizerStep: Int
        public var dataState: Data?
        public var tensors: [TensorRecord]
        public var sections: [String]
        public var parameterBufferCount: Int
        public var created: String
        /// Set for adapter finetuning: the parameters are this LoRA adapter's factors over a frozen base.
        public var adapter: LoRAConfig?
        /// The frozen base's storage format and source, for adapter checkpoints.
        public var frozenFormat: String?
        public var baseModel: String?

        enum CodingKeys: String, CodingKey {
            case architecture, model, training, step, optimizerStep, dataState, tensors, sections, parameterBufferCount, created
            case adapter, frozenFormat, baseModel
        }

        init(model: ModelConfiguration, training: TrainingConfig?, step: Int, optimizerStep: Int, dataState: Data?,
             tensors: [TensorRecord], sections: [String], parameterBufferCount: Int, created: String) {
            self.model = model; self.training = training; self.step = step; self.optimizerStep = optimizerStep
            self.dataState = dataState; self.tensors = tensors; self.sections = sections
            self.parameterBufferCount = parameterBufferCount; self.created = created
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let architecture = try c.decode(String.self, forKey: .architecture)
            switch architecture {
            case "gpt2": model = .gpt2(try c.decode(GPT2Config.self, forKey: .model))
            case "llama": model = .llama(try c.decode(LlamaConfig.self, forKey: .model))
            default:
                throw DecodingError.dataCorruptedError(forKey: .architecture, in: c,
                                                       debugDescription: "unknown architecture '\(architecture)' (known: \(ModelConfiguration.architectures.joined(separator: ", ")))")
            }
            training = try c.decodeIfPresent(TrainingConfig.self, forKey: .training)
            step = try c.decode(Int.self, forKey: .step)
            optimizerStep = try c.decode(Int.self, forKey: .optimizerStep)
            dataState = try c.decodeIfPresent(Data.self, forKey: .dataState)
            tensors = try c.decode([TensorRecord].self, forKey: .tensors)
            sections = try c.decode([String].self, forKey: .sections)
            parameterBufferCount = try c.decode(Int.self, forKey: .parameterBufferCount)
            created = try c.decode(String.self, forKey: .created)
            adapter = try c.decodeIfPresent(LoRAConfig.self, forKey: .adapter)
            frozenFormat = try c.decodeIfPresent(String.self, forKey: .frozenFormat)
            baseModel = try c.decodeIfPresent(String.self, forKey: .baseModel)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(architecture, forKey: .architecture)
            switch model {
            case .gpt2(let m): try c.encode(m, forKey: .model)
            case .llama(let m): try c.encode(m, forKey: .model)
            }
            try c.encodeIfPresent(training, forKey: .training)
            try c.encode(step, forKey: .step)
            try c.encode(optimizerStep, forKey: .optimizerStep)
            try c.encodeIfPresent(dataState, forKey: .dataState)
            try c.encode(tensors, forKey: .tensors)
            try c.encode(sections, forKey: .sections)
            try c.encode(parameterBufferCount, forKey: .parameterBufferCount)
            try c.encode(created, forKey: .created)
            try c.encodeIfPresent(adapter, forKey: .adapter)
            try c.encodeIfPresent(frozenFormat, forKey: .frozenFormat)
            try c.encodeIfPresent(baseModel, forKey: .baseModel)
        }
    }

    static let magic = Array("FGPTCKPT".utf8)
    static let version: UInt32 = 1

    public let path: String
    public let header: Header
    let file: MappedFile
    let dataStart: Int

    /// Writes a checkpoint of `model` (and `optimizer` when given) atomically to `path`.
    public static func save(to path: String, model: TrainableLanguageModel, optimizer: AdamW?, training: TrainingConfig?, step: Int,
                            dataState: Data?) throws {
        let p = model.parameters
        var header = Header(model: model.configuration, training: training, step: step,
                            optimizerStep: optimizer?.step ?? 0, dataState: dataState,
                            tensors: p.entries.map { TensorRecord(name: $0.name, shape: $0.shape, offset: $0.offset) },
                            sections: optimizer == nil ? ["parameters"] : ["parameters", "adam.m", "adam.v"],
                            parameterBufferCount: p.buffer.count, created: ISO8601DateFormatter().string(from: Date()))
        if let adapter = model.adapter {
            header.adapter = adapter.config
            header.frozenFormat = model.frozenWeightFormat?.cliName
            header.baseModel = adapter.config.baseModelNameOrPath
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var prefix = Data(magic)
        withUnsafeBytes(of: version.littleEndian) { prefix.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(0)) { prefix.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { prefix.append(contentsOf: $0) }
        prefix.append(json)
        while prefix.count % 64 != 0 { prefix.append(0) }
        try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: prefix)
            var buffers: [AlignedBuffer<Float>] = [p.buffer]
            if let optimizer { buffers += [optimizer.m, optimizer.v] }
            for b in buffers {
                try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(b.pointer), count: b.byteCount, deallocator: .none))
            }
        }
    }

    /// Opens and validates a checkpoint file.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        self.path = path
        var r = ByteReader(file)
        let m = try r.readBytes(8, "checkpoint magic")
        guard Array(m) == Checkpoint.magic else {
            throw IOError.badMagic(file: path, expected: "FGPTCKPT", found: String(decoding: m.map { $0 >= 32 && $0 < 127 ? $0 : 63 }, as: UTF8.self))
        }
        let v = try r.readU32("checkpoint version")
        guard v == Checkpoint.version else { throw IOError.unsupportedVersion(file: path, version: Int(v), supported: "1") }
        _ = try r.readU32("reserved")
        let n = try r.readU64("checkpoint header length")
        guard n <= UInt64(r.remaining) else { throw IOError.truncated(file: path, offset: r.offset, what: "checkpoint header of \(n) bytes") }
        let json = try r.readBytes(Int(n), "checkpoint header")
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(json))
        } catch {
            throw IOError.invalidValue(file: path, offset: 24, key: "header", reason: "checkpoint header is not valid: \(error)")
        }
        dataStart = (r.offset + 63) / 64 * 64
        let needed = dataStart + header.sections.count * header.parameterBufferCount * 4
        guard file.count >= needed else {
            throw IOError.truncated(file: path, offset: file.count, what: "checkpoint data (\(needed) bytes expected, file has \(file.count))")
        }
    }

    /// Copies a float32 section into `destination` (which must hold `parameterBufferCount` floats).
    public func read(section: String, into destination: AlignedBuffer<Float>) throws {
        guard let i = header.sections.firstIndex(of: section) else {
            throw TrainingError.checkpoint(path: path, reason: "has no section '\(section)' (it has \(header.sections.joined(separator: ", ")))")
        }
        guard destination.count == header.parameterBufferCount else {
            throw TrainingError.checkpoint(path: path, reason: "section '\(section)' holds \(header.parameterBufferCount) floats, destination \(destination.count)")
        }
        let start = dataStart + i * header.parameterBufferCount * 4
        UnsafeMutableRawPointer(destination.pointer).copyMemory(from: file.bytes.baseAddress! + start, byteCount: destination.byteCount)
    }

    /// A model built from the checkpoint's config with its weights.
    public func loadModel(recompute: Bool = false) throws -> TrainableLanguageModel {
        guard header.adapter == nil else {
            throw TrainingError.checkpoint(path: path, reason: "holds a LoRA adapter, not a whole model; load it over its base model (\(header.baseModel ?? "unknown"))")
        }
        let model = try header.model.makeModel(recompute: recompute)
        let expected = model.parameters.entries.map { TensorRecord(name: $0.name, shape: $0.shape, offset: $0.offset) }
        guard expected == header.tensors else {
            throw TrainingError.checkpoint(path: path, reason: "tensor layout does not match the \(header.architecture) model of its config")
        }
        try read(section: "parameters", into: model.parameters.buffer)
        return model
    }

    /// The LoRA adapter of an adapter-finetuning checkpoint.
    public func loadAdapter() throws -> LoRAAdapter {
        guard let config = header.adapter else { throw TrainingError.checkpoint(path: path, reason: "holds a whole model, not a LoRA adapter") }
        let base: LoRABaseModel
        switch header.model {
        case .llama(let c): base = .llama(c)
        case .gpt2(let c): base = .gpt2(c)
        }
        let adapter = try LoRAAdapter(config: config, base: base)
        let expected = adapter.parameters.entries.map { TensorRecord(name: $0.name, shape: $0.shape, offset: $0.offset) }
        guard expected == header.tensors else {
            throw TrainingError.checkpoint(path: path, reason: "tensor layout does not match its LoRA config")
        }
        try read(section: "parameters", into: adapter.parameters.buffer)
        return adapter
    }

    /// The checkpoint's GPT-2 model (an error naming the file for other architectures).
    public func loadGPT2(recompute: Bool = false) throws -> GPT2Model {
        guard let m = try loadModel(recompute: recompute) as? GPT2Model else {
            throw TrainingError.checkpoint(path: path, reason: "holds a \(header.architecture) model, not GPT-2")
        }
        return m
    }

    /// The checkpoint's LLaMA model (an error naming the file for other architectures).
    public func loadLlama(recompute: Bool = false) throws -> LlamaModel {
        guard let m = try loadModel(recompute: recompute) as? LlamaModel else {
            throw TrainingError.checkpoint(path: path, reason: "holds a \(header.architecture) model, not LLaMA")
        }
        return m
    }

    /// Restores AdamW moments and step counter.
    public func restore(optimizer: AdamW) throws {
        try read(section: "adam.m", into: optimizer.m)
        try read(section: "adam.v", into: optimizer.v)
        optimizer.restore(step: header.optimizerStep)
    }
}
