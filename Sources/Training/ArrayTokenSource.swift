import Foundation
import Tensor

/// Training windows drawn at random positions from an in-memory token array, and validation
/// windows walked in order through a second array. For tests, benchmarks and small corpora.
public final class ArrayTokenSource: TokenBatchSource {
    public let train: [Int32]
    public let validation: [Int32]
    var rng: RandomGenerator
    var drawn: Int = 0

    struct State: Codable { var rng: [UInt64]; var drawn: Int }

    public init(train: [Int32], validation: [Int32] = [], seed: UInt64) {
        self.train = train
        self.validation = validation
        self.rng = RandomGenerator(seed: seed)
    }

    public func nextTrainingBatch(batch: Int, seq: Int) throws -> TrainingBatch {
        guard train.count > seq else {
            throw TrainingError.data("the training tokens (\(train.count)) are fewer than one window of \(seq + 1)")
        }
        var inputs = [Int32](), targets = [Int32]()
        inputs.reserveCapacity(batch * seq)
        targets.reserveCapacity(batch * seq)
        for _ in 0..<batch {
            let start = rng.nextInt(below: train.count - seq)
            inputs += train[start..<(start + seq)]
            targets += train[(start + 1)...(start + seq)]
        }
        drawn += 1
        return TrainingBatch(inputs: inputs, targets: targets)
    }

    public func validationBatches(batch: Int, seq: Int, maxBatches: Int) throws -> [TrainingBatch] {
        var out: [TrainingBatch] = []
        var pos = 0
        while out.count < maxBatches, pos + batch * seq + 1 <= validation.count {
            var inputs = [Int32](), targets = [Int32]()
            for _ in 0..<batch {
                inputs += validation[pos..<(pos + seq)]
                targets += validation[(pos + 1)...(pos + seq)]
                pos += seq
            }
            out.append(TrainingBatch(inputs: inputs, targets: targets))
        }
        return out
    }

    public func saveState() throws -> Data { try JSONEncoder().encode(State(rng: rng.state, drawn: drawn)) }

    public func restoreState(_ data: Data) throws {
        let s = try JSONDecoder().decode(State.self, from: data)
        rng = try RandomGenerator(state: s.rng)
        drawn = s.drawn
    }
}
