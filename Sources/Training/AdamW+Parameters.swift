import Models
import Optim

extension AdamW {
    /// An optimizer over a model's parameter store: one segment per named tensor, with weight decay on
    /// matrices and embeddings only.
    public convenience init(parameters: ParameterStore, hyper: Hyper = Hyper()) {
        self.init(size: parameters.buffer.count,
                  segments: parameters.entries.map { Segment(offset: $0.offset, count: $0.count, decay: $0.decays) },
                  hyper: hyper)
    }
}
