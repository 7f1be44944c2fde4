/// Contiguous block ranges for pipeline stages, balanced by estimated compute: every block costs its
/// linear layers' multiply-adds per position, and the last stage also pays for the output head
/// (vocabulary x width), which in small models outweighs several blocks.
public enum StagePartition {
    /// The block range of every stage (each non-empty), minimising the most expensive stage.
    public static func ranges(blocks: Int, stages: Int, blockCost: Double, headCost: Double) throws -> [Range<Int>] {
        guard stages >= 1, stages <= blocks else {
            throw TrainingError.invalidConfig("\(stages) pipeline stages for \(blocks) blocks; every stage needs at least one block")
        }
        // best[s][b]: the smallest possible maximum stage cost when the first s stages take the first b blocks
        let infinity = Double.infinity
        var best = [[Double]](repeating: [Double](repeating: infinity, count: blocks + 1), count: stages + 1)
        var cut = [[Int]](repeating: [Int](repeating: 0, count: blocks + 1), count: stages + 1)
        best[0][0] = 0
        for s in 1...stages {
            for b in s...blocks {
                for start in (s - 1)..<b where best[s - 1][start] < infinity {
                    let cost = Double(b - start) * blockCost + (s == stages && b == blocks ? headCost : 0)
                    let worst = max(best[s - 1][start], cost)
                    if worst < best[s][b] { best[s][b] = worst; cut[s][b] = start }
                }
            }
        }
        var result: [Range<Int>] = []
        var end = blocks
        for s in stride(from: stages, through: 1, by: -1) {
            let start = cut[s][end]
            result.append(start..<end)
            end = start
        }
        return result.reversed()
    }
}
