/// The FinGPT benchmark's instruction texts and prompt layout.
public enum SentimentInstruction {
    /// For news and headlines (FPB, FiQA headlines, NWGI).
    public static let news = "What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}."
    /// For tweets and posts (TFNS, FiQA posts).
    public static let tweet = "What is the sentiment of this tweet? Please choose an answer from {negative/neutral/positive}."

    /// `Instruction: {instruction}\nInput: {input}\nAnswer: ` (the answer follows the final space).
    public static func prompt(instruction: String, input: String) -> String {
        "Instruction: \(instruction)\nInput: \(input)\nAnswer: "
    }
}
