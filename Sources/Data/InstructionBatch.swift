/// A padded batch of instruction examples: `batch` rows of `seq` positions, row major.
///
/// Rows are right-padded; targets are the next token on answer positions and -1 on prompt and
/// padding positions (the loss ignores targets below zero). The last batch of an epoch may hold
/// fewer than `batch` examples: its remaining rows are all padding (every target -1), so the shape
/// stays `batch x seq`.
public struct InstructionBatch: Equatable, Sendable {
    public let batch: Int
    public let seq: Int
    /// [batch * seq] input ids.
    public let inputs: [Int32]
    /// [batch * seq] target ids, -1 where not scored.
    public let targets: [Int32]
    /// Rows that hold an example (the rest are padding rows).
    public let examples: Int
    /// Scored targets (answer tokens, end tokens included).
    public let answerTokens: Int
    /// Input positions holding real tokens (not padding).
    public let realTokens: Int

    /// Share of the batch's positions that are padding.
    public var paddingFraction: Double { 1 - Double(realTokens) / Double(batch * seq) }

    /// Packs `rows` (at most `batch` of them) into a batch of `seq` positions; `seq` must be at
    /// least every row's input length.
    init(rows: [TokenizedInstruction], batch: Int, seq: Int, padID: Int32) {
        var inputs = [Int32](repeating: padID, count: batch * seq)
        var targets = [Int32](repeating: -1, count: batch * seq)
        inputs.withUnsafeMutableBufferPointer { inp in
            targets.withUnsafeMutableBufferPointer { tgt in
                for (b, row) in rows.enumerated() {
                    row.writeRow(inputs: inp.baseAddress! + b * seq, targets: tgt.baseAddress! + b * seq, seq: seq, padID: padID)
                }
            }
        }
        self.batch = batch
        self.seq = seq
        self.inputs = inputs
        self.targets = targets
        self.examples = rows.count
        self.answerTokens = rows.reduce(0) { $0 + $1.answerCount }
        self.realTokens = rows.reduce(0) { $0 + $1.inputLength }
    }
}
