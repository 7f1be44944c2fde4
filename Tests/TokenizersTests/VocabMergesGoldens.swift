import Foundation

/// The fixture written by dev/make_hf_tokenizer_files.py --write-goldens: the ids Hugging Face
/// gives for each golden text when SmolLM2's vocab.json + merges.txt are loaded the way GPT-2's
/// are (GPT-2 pre-tokenizer, `<|endoftext|>` the only special token), cross-checked against
/// transformers' GPT2TokenizerFast.
struct VocabMergesGoldens: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int32]
        let ids_no_special: [Int32]
    }
    let reference: String
    let cases: [Case]

    static func load() throws -> VocabMergesGoldens {
        try JSONDecoder().decode(VocabMergesGoldens.self,
                                 from: Data(contentsOf: Llama3Goldens.fixtureURL("smollm2_vocab_merges_goldens.json")))
    }
}
