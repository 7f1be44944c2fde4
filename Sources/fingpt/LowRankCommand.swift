import Foundation
import IO
import Models
import NN
import Training

/// `fingpt lowrank`: factorise a dense model (GPT-2 or LLaMA: checkpoint, GGUF or Hugging Face folder)
/// by truncated SVD into a checkpoint that keeps the factors, or merge a factorised checkpoint back.
enum LowRankCommand {
    static let usage = """
    fingpt lowrank --model MODEL --out CHECKPOINT (--rank SPEC | --energy E | --plan PLAN | --merge) [--report FILE.json]
      MODEL: a fingpt checkpoint, a LLaMA GGUF file (e.g. SmolLM2) or a Hugging Face folder.
      SPEC: an absolute rank (64) or a fraction of min(in, out) (0.25), for every block linear.
      E: keep the smallest rank whose singular values retain this fraction of the energy (0.9); a layer
         whose energy rank would not make it smaller (r (in + out) >= in x out) stays dense.
      PLAN: per layer kind, e.g. "qkv=0.25,attn_out=0.25,mlp_up=e0.9,mlp_down=dense".
      --merge: multiply the factors back into dense weights (W = B A).
      Then continue pretraining with `fingpt pretrain --init OUT ...`.
    """

    static func run(_ args: [String]) throws {
        var a = try Arguments(args, flagNames: ["merge", "help"])
        if a.flag("help") { print(usage); return }
        let input = try a.require("model"), output = try a.require("out")
        let merge = a.flag("merge")
        let rank = a.string("rank"), energy = a.string("energy"), planText = a.string("plan"), reportPath = a.string("report")
        try a.checkAllUsed()
        let model = try TrainableModelLoader.load(path: input)
        if merge {
            let dense = try LowRankFactorizer.merge(model)
            try Checkpoint.save(to: output, model: dense, optimizer: nil, training: nil, step: 0, dataState: nil)
            print("merged \(model.configuration.lowRankRanks.count) factorised layers into dense weights -> \(output)")
            return
        }
        let given = [rank, energy, planText].compactMap { $0 }
        guard given.count == 1 else { throw CLIError.usage("give exactly one of --rank, --energy, --plan or --merge\n" + usage) }
        let plan: LowRankPlan
        if let rank { plan = try LowRankPlan(uniform: try RankSpec(parsing: rank)) }
        else if let energy { plan = try LowRankPlan(uniform: try RankSpec(parsing: "e" + energy)) }
        else { plan = try LowRankPlan(parsing: planText!) }
        let (factorised, report) = try LowRankFactorizer.factorize(model, plan: plan)
        try Checkpoint.save(to: output, model: factorised, optimizer: nil, training: nil, step: 0, dataState: nil)
        print(LowRankFactorizer.render(report, config: factorised.configuration), terminator: "")
        print("wrote \(output)")
        if let reportPath {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try enc.encode(report), to: reportPath)
        }
    }
}
