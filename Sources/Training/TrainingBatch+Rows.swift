extension TrainingBatch {
    /// The rows (sequences) at `rows` of this batch of `shape`, as a batch of its own shape.
    func rows(_ rows: [Int], shape: (batch: Int, seq: Int)) -> TrainingBatch {
        var inputs: [Int32] = [], targets: [Int32] = []
        inputs.reserveCapacity(rows.count * shape.seq)
        targets.reserveCapacity(rows.count * shape.seq)
        for r in rows {
            inputs += self.inputs[(r * shape.seq)..<((r + 1) * shape.seq)]
            targets += self.targets[(r * shape.seq)..<((r + 1) * shape.seq)]
        }
        return TrainingBatch(inputs: inputs, targets: targets, shape: (rows.count, shape.seq))
    }

    /// Replica `replica` of `replicas` takes rows replica, replica + replicas, ... (a rank-strided,
    /// disjoint share of the global batch), cut into `pieces` consecutive micro-batches.
    func share(replica: Int, replicas: Int, pieces: Int, shape: (batch: Int, seq: Int)) throws -> [TrainingBatch] {
        guard shape.batch % (replicas * pieces) == 0 else {
            throw TrainingError.invalidConfig("a batch of \(shape.batch) sequences does not split into \(replicas) replica(s) x \(pieces) micro-batch(es)")
        }
        let mine = Array(stride(from: replica, to: shape.batch, by: replicas))
        let per = mine.count / pieces
        return (0..<pieces).map { p in rows(Array(mine[(p * per)..<((p + 1) * per)]), shape: shape) }
    }
}
