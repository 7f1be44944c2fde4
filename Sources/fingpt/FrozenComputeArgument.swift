import Quantization

/// `--frozen-compute int16|f32` of `finetune` and `bench-finetune`: the arithmetic of the products
/// with a quantized frozen base (default int16).
enum FrozenComputeArgument {
    static func read(_ a: inout Arguments) throws -> FrozenProductArithmetic {
        let name = a.string("frozen-compute", default: FrozenProductArithmetic.blockInt16.rawValue)
        guard let arithmetic = FrozenProductArithmetic(cliName: name) else {
            throw CLIError.usage("--frozen-compute must be one of \(FrozenProductArithmetic.choices.joined(separator: ", ")), not '\(name)'")
        }
        return arithmetic
    }
}
