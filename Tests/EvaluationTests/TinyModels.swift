import Foundation
import Models
import Tensor
import Tokenizers

/// A small byte-level BPE (256 byte tokens, `<|endoftext|>` = 256, a few merges such as " the" and
/// " positive") and a random LLaMA over its vocabulary, for exact checks of evaluation plumbing.
enum TinyModels {
    static func tokenizer() throws -> BPETokenizer {
        var tokens = ByteLevelEncoding.byteToScalar.map { String($0) } + ["<|endoftext|>"]
        tokens += ["th", "the", "Ġthe", "in", "Ġin", "po", "Ġpo", "Ġpos", "Ġposi", "Ġposit", "Ġpositi", "Ġpositiv", "Ġpositive"]
        let types: [TokenType] = Array(repeating: .normal, count: 256) + [.control] + Array(repeating: .normal, count: tokens.count - 257)
        let merges = ["t h", "th e", "Ġ the", "i n", "Ġ in", "p o", "Ġ po", "Ġpo s", "Ġpos i", "Ġposi t", "Ġposit i", "Ġpositi v", "Ġpositiv e"]
        return try BPETokenizer(tokens: tokens, tokenTypes: types, merges: merges, preTokenizer: .gpt2, eosID: 256, source: "tiny-tokenizer")
    }

    /// A random LLaMA whose vocabulary matches `tokenizer()`, with weights large enough to give
    /// peaked, position-dependent predictions.
    static func llama(vocabulary: Int, context: Int = 512, seed: UInt64 = 1) throws -> LlamaModel {
        let cfg = LlamaConfig(vocabSize: vocabulary, hiddenSize: 16, intermediateSize: 24, layers: 2, heads: 4, kvHeads: 2, contextLength: context)
        let model = try LlamaModel(config: cfg, seed: seed)
        var rng = RandomGenerator(seed: seed + 1)
        for e in model.parameters.entries where e.shape.count == 2 { rng.fillNormal(model.parameters[e.name].buffer, std: 0.3) }
        return model
    }

    /// log softmax(logits of position t)[target] from a full, uncached forward pass over `tokens`
    /// (the training model's own code path), in Double.
    static func referenceLogProbabilities(model: LlamaModel, tokens: [Int32], from first: Int) throws -> [Double] {
        let v = model.config.vocabSize
        let logits = try model.logits(tokens: tokens, batch: 1, seq: tokens.count).array
        return (first..<tokens.count).map { t in
            let row = logits[((t - 1) * v)..<(t * v)].map(Double.init)
            let m = row.max() ?? 0
            let lse = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
            return row[Int(tokens[t])] - lse
        }
    }
}
