import XCTest
@testable import Data

final class PromptTemplateTests: XCTestCase {
    let row = InstructionExample(prompt: .fields(instruction: "What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.",
                                                 input: "Profit rose 5 % ."), answer: "positive")
    let completionRow = InstructionExample(prompt: .text("Q: 2+2?\nA:"), answer: " 4")

    func testFinGPTTemplateIsExact() {
        let t = PromptTemplate.fingpt
        XCTAssertEqual(t.prompt(for: row).rendered(),
                       "Instruction: What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.\nInput: Profit rose 5 % .\nAnswer: ")
        XCTAssertEqual(t.prompt(for: row).pieces.count, 1)
        XCTAssertEqual(t.answer(for: row).pieces, [.text("positive"), .endOfSequence])
        XCTAssertEqual(t.answer(for: row).rendered(endOfSequence: "</s>"), "positive</s>")
        // Prompt/completion rows are already prompts.
        XCTAssertEqual(t.prompt(for: completionRow).rendered(), "Q: 2+2?\nA:")
        XCTAssertEqual(t.answer(for: completionRow).pieces, [.text(" 4"), .endOfSequence])
    }

    func testCustomTemplateSubstitutesOncePerPlaceholder() throws {
        let t = try PromptTemplate.custom("### {instruction}\n{input} {input}\n{not a placeholder} {}\n### Answer:")
        let r = InstructionExample(prompt: .fields(instruction: "Rate {input}", input: "x"), answer: "y")
        // Values are not re-scanned: "{input}" inside the instruction stays literal.
        XCTAssertEqual(t.prompt(for: r).rendered(), "### Rate {input}\nx x\n{not a placeholder} {}\n### Answer:")
        XCTAssertEqual(t.answer(for: r).pieces, [.text("y"), .endOfSequence])
    }

    func testCustomTemplateErrors() {
        XCTAssertThrowsError(try PromptTemplate.custom("Instruction: {Instruction}\n{input}")) { error in
            XCTAssertEqual(error as? InstructionDataError,
                           .invalidTemplate("unknown placeholder {Instruction} in 'Instruction: {Instruction}\n{input}'; use {instruction} and {input}"))
        }
        XCTAssertThrowsError(try PromptTemplate.custom("no placeholders here"))
    }

    func testChatMLMatchesTheProjectChatLayout() {
        let t = PromptTemplate.chatML(system: "You are a financial analyst.")
        let p = t.prompt(for: row)
        XCTAssertEqual(p.rendered(),
                       "<|im_start|>system\nYou are a financial analyst.<|im_end|>\n<|im_start|>user\nWhat is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.\nProfit rose 5 % .<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(p.pieces, [.special("<|im_start|>"), .text("system\nYou are a financial analyst."), .special("<|im_end|>"), .text("\n"),
                                  .special("<|im_start|>"), .text("user\n" + "What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.\nProfit rose 5 % ."),
                                  .special("<|im_end|>"), .text("\n"), .special("<|im_start|>"), .text("assistant\n")])
        XCTAssertEqual(t.answer(for: row).pieces, [.text("positive"), .special("<|im_end|>")])

        let noSystem = PromptTemplate.chatML()
        XCTAssertEqual(noSystem.prompt(for: completionRow).rendered(), "<|im_start|>user\nQ: 2+2?\nA:<|im_end|>\n<|im_start|>assistant\n")
        let noInput = InstructionExample(prompt: .fields(instruction: "Say hi", input: ""), answer: "hi")
        XCTAssertEqual(noSystem.prompt(for: noInput).rendered(), "<|im_start|>user\nSay hi<|im_end|>\n<|im_start|>assistant\n")
    }

    func testParsingCommandLineTemplates() throws {
        XCTAssertEqual(try PromptTemplate(parsing: "fingpt"), .fingpt)
        XCTAssertEqual(try PromptTemplate(parsing: "ChatML"), .chatML())
        XCTAssertEqual(try PromptTemplate(parsing: "chatml:Be brief.\\nAnswer in one word."), .chatML(system: "Be brief.\nAnswer in one word."))
        let custom = try PromptTemplate(parsing: #"Instruction: {instruction}\nInput: {input}\nAnswer: "#)
        XCTAssertEqual(custom.prompt(for: row).rendered(), PromptTemplate.fingpt.prompt(for: row).rendered())
        XCTAssertEqual(PromptTemplate.unescape(#"a\\nb\tc\qd\"#), "a\\nb\tc\\qd\\")
    }
}
