import Foundation

/// The fixture written by dev/make_llama3_pretokenizer_goldens.py: Hugging Face `tokenizers`'
/// Llama 3 pre-tokenizer pieces for a set of strings, and the ids of the small Llama-3-style
/// tokenizer saved next to it (Fixtures/llama3_style_tokenizer.json).
struct Llama3Goldens: Decodable {
    struct Case: Decodable {
        let text: String
        let pieces: [String]
        let ids: [Int32]
        let ids_no_special: [Int32]
        let decoded: String
    }
    let pattern: String
    let vocab_size: Int
    let cases: [Case]

    static func load() throws -> Llama3Goldens {
        try JSONDecoder().decode(Llama3Goldens.self, from: Data(contentsOf: fixtureURL("llama3_pretokenizer_goldens.json")))
    }

    /// The URL of a file in the test bundle's Fixtures folder.
    static func fixtureURL(_ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(name)")
    }
}
