import Tensor

/// Key/value caches of several sequences for a batched runner: per sequence and layer, rows of
/// `width` floats (one per cached position). Storage grows with a sequence's length (up to
/// `maxPositions`), so many short sequences do not each reserve a whole context.
final class SequenceKVCache {
    let layers: Int
    let width: Int
    let maxPositions: Int
    /// Positions cached per sequence.
    private(set) var positions: [Int]
    private var capacity: [Int]
    private var keys: [[AlignedBuffer<Float>]]
    private var values: [[AlignedBuffer<Float>]]

    init(sequences: Int, layers: Int, width: Int, maxPositions: Int) {
        self.layers = layers
        self.width = width
        self.maxPositions = maxPositions
        positions = Array(repeating: 0, count: sequences)
        capacity = Array(repeating: 0, count: sequences)
        keys = Array(repeating: [], count: sequences)
        values = Array(repeating: [], count: sequences)
    }

    var sequences: Int { positions.count }

    /// Keys and values of `layer` for `sequence`, [capacity, width] each.
    func keys(_ sequence: Int, layer: Int) -> UnsafeMutablePointer<Float> { keys[sequence][layer].pointer }
    func values(_ sequence: Int, layer: Int) -> UnsafeMutablePointer<Float> { values[sequence][layer].pointer }

    /// Makes room for `count` positions of `sequence` (at most `maxPositions`), keeping its contents.
    func reserve(_ sequence: Int, positions count: Int) {
        precondition(count <= maxPositions, "\(count) positions exceed the cache's \(maxPositions)")
        guard count > capacity[sequence] else { return }
        let grown = min(maxPositions, max(count, 2 * capacity[sequence], 64))
        let kept = positions[sequence] * width
        func moved(_ old: [AlignedBuffer<Float>]) -> [AlignedBuffer<Float>] {
            (0..<layers).map { l in
                let b = AlignedBuffer<Float>(count: grown * width)
                if kept > 0 { b.pointer.update(from: old[l].pointer, count: kept) }
                return b
            }
        }
        keys[sequence] = moved(keys[sequence])
        values[sequence] = moved(values[sequence])
        capacity[sequence] = grown
    }

    /// Counts `count` more positions of `sequence` as cached (written by the caller).
    func advance(_ sequence: Int, by count: Int) {
        precondition(positions[sequence] + count <= capacity[sequence], "positions written past the reserved cache")
        positions[sequence] += count
    }

    /// Keeps the first `count` positions of `sequence`.
    func truncate(_ sequence: Int, to count: Int) {
        positions[sequence] = min(positions[sequence], max(0, count))
    }

    /// `destination` holds a copy of the first `count` positions of `source`.
    func copy(from source: Int, to destination: Int, count: Int) {
        precondition(count >= 0 && count <= positions[source], "cannot copy \(count) of \(positions[source]) cached positions")
        guard source != destination else { truncate(destination, to: count); return }
        positions[destination] = 0
        reserve(destination, positions: count)
        for l in 0..<layers where count > 0 {
            keys[destination][l].pointer.update(from: keys[source][l].pointer, count: count * width)
            values[destination][l].pointer.update(from: values[source][l].pointer, count: count * width)
        }
        positions[destination] = count
    }

    /// Throws unless `sequence` is one of this cache's.
    func check(_ sequence: Int) throws {
        guard sequence >= 0 && sequence < sequences else {
            throw ModelError.invalidInput("sequence \(sequence) is outside 0..<\(sequences)")
        }
    }

    /// `truncate` for a caller's sequence number (checked).
    func checkedTruncate(_ sequence: Int, to count: Int) throws {
        try check(sequence)
        truncate(sequence, to: count)
    }

    /// `copy` for a caller's sequence numbers and count (checked).
    func checkedCopy(from source: Int, to destination: Int, count: Int) throws {
        try check(source)
        try check(destination)
        guard count >= 0 && count <= positions[source] else {
            throw ModelError.invalidInput("cannot copy \(count) positions of sequence \(source), which holds \(positions[source])")
        }
        copy(from: source, to: destination, count: count)
    }
}
