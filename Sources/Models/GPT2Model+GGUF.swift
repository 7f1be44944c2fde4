import IO
import Tensor

extension GPT2Model {
    /// A float32 GPT-2 from a GGUF file in llama.cpp's gpt2 layout (as `fingpt convert` writes it),
    /// every tensor decoded from its stored type (for full finetuning, merging and inference).
    public convenience init(gguf: GGUFFile) throws {
        try self.init(config: try GPT2Config(gguf: gguf))
        for e in parameters.entries {
            guard let name = TensorNameMapping.ggufName(forGPT2: e.name) else {
                throw ModelError.invalidConfig("GPT-2 tensor \(e.name) has no GGUF name")
            }
            let info = try gguf.tensor(named: name)
            guard info.elementCount == e.count, info.rowMajorShape.filter({ $0 != 1 }) == e.shape.filter({ $0 != 1 }) else {
                throw ModelError.invalidConfig("\(gguf.path): tensor \(name) has shape \(info.rowMajorShape), the config needs \(e.shape)")
            }
            parameters.pointer(e.name).update(from: try gguf.floats(info), count: e.count)
        }
    }
}
