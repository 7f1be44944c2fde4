/// Instruction-tuning data loaded from `path[:weight]` specs: read, split into train and dev,
/// tokenized, and mixed with the weights (repeats apply to the training rows only; each dev row
/// appears once).
public struct InstructionCorpus: Sendable {
    /// What was read from one spec.
    public struct FileSummary: Equatable, Sendable {
        public var path: String
        public var weight: Int
        public var rows: Int
        public var trainRows: Int
        public var devRows: Int
        /// Rows whose prompt was cut to fit the maximum sequence length.
        public var truncatedRows: Int
    }

    public let train: InstructionMix
    /// Held-out rows, file by file (empty when the dev fraction is 0).
    public let dev: [TokenizedInstruction]
    public let files: [FileSummary]

    /// Loads `specs` with `encoder`, holding out about `devFraction` of each file's rows
    /// (see `InstructionSplit`; `splitSeed` picks which).
    /// - Throws: on unreadable or malformed files, answers too long, a bad fraction, or a file
    ///   left with no training rows.
    public static func load(specs: [InstructionDataSpec], encoder: InstructionEncoder,
                            devFraction: Double = 0, splitSeed: UInt64 = 0) throws -> InstructionCorpus {
        guard !specs.isEmpty else { throw InstructionDataError.invalidArgument("no instruction data files given") }
        var trainFiles: [(examples: [TokenizedInstruction], weight: Int)] = []
        var dev: [TokenizedInstruction] = []
        var summaries: [FileSummary] = []
        for spec in specs {
            let rows = try InstructionFileReader.read(path: spec.path)
            let (trainRows, devRows) = try InstructionSplit.split(rows, fraction: devFraction, seed: splitSeed)
            guard !trainRows.isEmpty else {
                throw InstructionDataError.unreadableFile(file: spec.path,
                    reason: "all \(rows.count) rows were held out for dev (fraction \(devFraction)); lower the fraction")
            }
            let trainTokens = try encoder.encode(trainRows)
            let devTokens = try encoder.encode(devRows)
            trainFiles.append((trainTokens, spec.weight))
            dev += devTokens
            summaries.append(FileSummary(path: spec.path, weight: spec.weight, rows: rows.count,
                                         trainRows: trainRows.count, devRows: devRows.count,
                                         truncatedRows: (trainTokens + devTokens).filter { $0.droppedPromptTokens > 0 }.count))
        }
        return InstructionCorpus(train: try InstructionMix(files: trainFiles), dev: dev, files: summaries)
    }
}
