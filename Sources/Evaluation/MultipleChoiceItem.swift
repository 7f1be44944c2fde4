/// One multiple-choice question as (context, continuation) text pairs, one pair per choice, and
/// the index of the right one. Questions with a shared context (BoolQ, PIQA) repeat it in each
/// pair; WinoGrande-style items vary the context and share the continuation.
public struct MultipleChoiceItem: Codable, Equatable, Sendable {
    public struct Choice: Codable, Equatable, Sendable {
        public var context: String
        public var continuation: String
        public init(context: String, continuation: String) {
            self.context = context
            self.continuation = continuation
        }
    }

    public var choices: [Choice]
    public var label: Int
    public var line: Int

    public init(choices: [Choice], label: Int, line: Int) {
        self.choices = choices
        self.label = label
        self.line = line
    }
}
