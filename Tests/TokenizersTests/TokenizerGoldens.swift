import Foundation

/// The fixture written by dev/make_tokenizer_goldens.py (Hugging Face `tokenizers` rebuilt from the
/// SmolLM2 GGUF, cross-checked against llama.cpp).
struct TokenizerGoldens: Decodable {
    struct Case: Decodable {
        let text: String
        let decoded: String
        let ids: [Int32]
        let ids_no_special: [Int32]
        let pieces: [String]
        let gpt2_pieces: [String]
    }
    struct DecodeCase: Decodable {
        let ids: [Int32]
        let text: String
    }
    let model: String
    let vocab_size: Int
    let llama_cpp_cross_check: Bool
    let cases: [Case]
    let decode_cases: [DecodeCase]

    static func load() throws -> TokenizerGoldens {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/smollm2_tokenizer_goldens.json")
        return try JSONDecoder().decode(TokenizerGoldens.self, from: Data(contentsOf: url))
    }
}
