import Models
import Optim

/// Which trainable parameters each pipeline stage computes gradients for and updates: its blocks,
/// the embedding on the first stage, the final norm and head on the last, and a tied embedding/head
/// weight on both (kept equal by summing the two stages' gradients before the update).
struct StageOwnership {
    let stageLayers: [Range<Int>]
    let tiedParameter: String?
    let groups: [GradientGroup]
    let entries: [ParameterStore.Entry]
    /// entry i's span in the flat buffer, including its alignment padding (zero in gradients).
    let spans: [Range<Int>]

    init(model: PipelineStageModel, stageLayers: [Range<Int>]) {
        self.stageLayers = stageLayers
        let store = model.parameters
        entries = store.entries
        groups = entries.map { model.gradientGroup(ofParameter: $0.name) }
        tiedParameter = stageLayers.count > 1 ? model.tiedHeadParameter : nil
        let offsets = entries.map(\.offset) + [store.buffer.count]
        spans = entries.indices.map { offsets[$0]..<offsets[$0 + 1] }
    }

    /// Indices of the entries stage `s` trains.
    func owned(stage s: Int) -> [Int] {
        let last = stageLayers.count - 1
        return entries.indices.filter { i in
            switch groups[i] {
            case .block(let l): return stageLayers[s].contains(l)
            case .embedding: return s == 0 || (s == last && entries[i].name == tiedParameter)
            case .head: return s == last
            }
        }
    }

    /// Entries stage `s` is the only holder of (owned minus a tied weight held by the first stage too):
    /// what it contributes to the gradient norm and sends for a checkpoint.
    func exclusive(stage s: Int) -> [Int] {
        owned(stage: s).filter { s == 0 || entries[$0].name != tiedParameter }
    }

    /// AdamW segments of the entries stage `s` updates.
    func segments(stage s: Int) -> [AdamW.Segment] {
        owned(stage: s).map { AdamW.Segment(offset: entries[$0].offset, count: entries[$0].count, decay: entries[$0].decays) }
    }

    /// The index of the tied weight's entry, if any.
    var tiedIndex: Int? { tiedParameter.flatMap { name in entries.firstIndex { $0.name == name } } }
}
