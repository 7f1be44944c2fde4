/// The rows of one pass of a batched runner: a segment of consecutive tokens from each of several
/// sequences, stacked into one matrix of rows so that each weight matrix is applied once.
///
/// Segments are stored longest first, so that for any threshold the rows of segments longer than
/// it form a prefix of the pass (`SegmentedLinearProduct` gives those rows the arithmetic of a long
/// input and the rest the arithmetic of a short one, as the single-sequence runner would).
struct BatchedPass {
    struct Segment {
        /// Index of the feed (in the forward call) the tokens come from.
        let feed: Int
        let sequence: Int
        let tokens: ArraySlice<Int32>
        /// Position of the first token in its sequence.
        let start: Int
        /// First row of the segment in the pass.
        let row: Int
        /// Logits wanted for the segment's last `logitRows` tokens (0, 1 or all of them).
        let logitRows: Int
        var count: Int { tokens.count }
    }

    let segments: [Segment]
    let rows: Int

    /// `parts` (feed, sequence, tokens, start position, logit rows) laid out longest first (stable).
    init(_ parts: [(feed: Int, sequence: Int, tokens: ArraySlice<Int32>, start: Int, logitRows: Int)]) {
        var row = 0
        segments = parts.enumerated().sorted { a, b in
            a.element.tokens.count != b.element.tokens.count ? a.element.tokens.count > b.element.tokens.count : a.offset < b.offset
        }.map { _, p in
            defer { row += p.tokens.count }
            return Segment(feed: p.feed, sequence: p.sequence, tokens: p.tokens, start: p.start, row: row, logitRows: p.logitRows)
        }
        rows = row
    }

    /// Row counts of the segments, longest first.
    var lengths: [Int] { segments.map(\.count) }

    /// The segments that want logits, most logit rows first, with the offset of their first logit
    /// row in the stacked logit rows.
    var logitSegments: [(segment: Int, offset: Int)] {
        var offset = 0
        return segments.indices.filter { segments[$0].logitRows > 0 }
            .sorted { segments[$0].logitRows != segments[$1].logitRows ? segments[$0].logitRows > segments[$1].logitRows : $0 < $1 }
            .map { s in defer { offset += segments[s].logitRows }; return (s, offset) }
    }
}
