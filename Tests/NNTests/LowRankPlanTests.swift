import Foundation
import NN
import XCTest

/// RankSpec parsing, validation and resolution; LowRankPlan parsing.
final class LowRankPlanTests: XCTestCase {
    private func assertThrows(_ expected: LowRankError, mentions words: [String] = [], _ body: () throws -> Any?,
                              file: StaticString = #filePath, line: UInt = #line) {
        do {
            let value = try body()
            XCTFail("expected \(expected), got \(String(describing: value))", file: file, line: line)
        } catch let error as LowRankError {
            XCTAssertEqual(error, expected, file: file, line: line)
            for w in words { XCTAssertTrue(error.description.contains(w), "'\(error)' should mention '\(w)'", file: file, line: line) }
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
    }

    func testSpecParsing() throws {
        let cases: [(String, RankSpec)] = [
            ("dense", .dense), (" Dense ", .dense), ("64", .absolute(64)), ("1", .absolute(1)), ("0064", .absolute(64)),
            ("0.25", .fraction(0.25)), (".5", .fraction(0.5)), ("1.0", .fraction(1)), ("1.", .fraction(1)),
            ("e0.9", .energy(0.9)), ("E0.95", .energy(0.95)), ("energy:0.9", .energy(0.9)), ("ENERGY:1", .energy(1)), ("e.99", .energy(0.99)),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try RankSpec(parsing: text), expected, text)
        }
        // description round-trips, also through Codable
        for spec: RankSpec in [.dense, .absolute(7), .fraction(0.25), .fraction(1), .fraction(0.1 + 0.2), .energy(0.9), .energy(1), .fraction(1e-5)] {
            XCTAssertEqual(try RankSpec(parsing: spec.description), spec, spec.description)
            let json = try JSONEncoder().encode([spec])
            XCTAssertEqual(try JSONDecoder().decode([RankSpec].self, from: json), [spec])
        }
        XCTAssertEqual(RankSpec.energy(0.9).description, "e0.9")
        XCTAssertEqual(RankSpec.fraction(0.25).description, "0.25")
    }

    func testSpecParsingErrors() {
        let context = "qkv"
        func invalid(_ text: String) -> LowRankError {
            do { _ = try RankSpec(parsing: text, context: context); return .invalidPlan(text: "no error", reason: "") } catch let e as LowRankError { return e } catch { return .invalidPlan(text: "\(error)", reason: "") }
        }
        for text in ["", "  ", "abc", "-3", "+3", "1e-3", "0.2.3", "nan", "inf", "e", "energy:", "eabc", "e-0.5", "64k", "1/4", "0x10"] {
            guard case .invalidSpec(let t, let ctx, _) = invalid(text) else { XCTFail("'\(text)' should be an invalid spec, got \(invalid(text))"); continue }
            XCTAssertEqual(t, text)
            XCTAssertEqual(ctx, context)
            XCTAssertTrue(invalid(text).description.contains("qkv"))
        }
        // rank 0
        guard case .invalidSpec(_, _, let reason) = invalid("0") else { return XCTFail("rank 0 must be refused") }
        XCTAssertTrue(reason.contains("rank 0"), reason)
        // out-of-range fractions and energies name the layer and the value
        assertThrows(.fractionOutOfRange(layer: "mlp_up", value: 1.5), mentions: ["mlp_up", "1.5"]) { try RankSpec(parsing: "1.5", context: "mlp_up") }
        assertThrows(.fractionOutOfRange(layer: "mlp_up", value: 0), mentions: ["mlp_up"]) { try RankSpec(parsing: "0.0", context: "mlp_up") }
        assertThrows(.energyOutOfRange(layer: "head", value: 0), mentions: ["head"]) { try RankSpec(parsing: "e0", context: "head") }
        assertThrows(.energyOutOfRange(layer: "head", value: 1.2), mentions: ["head", "1.2"]) { try RankSpec(parsing: "energy:1.2", context: "head") }
    }

    func testResolve() throws {
        let (c, oc) = (576, 1536) // a [1536, 576] weight: full rank 576
        let layer = "blk.0.ffn_up"
        XCTAssertNil(try RankSpec.dense.resolve(in: c, out: oc, layer: layer))
        XCTAssertEqual(try RankSpec.absolute(64).resolve(in: c, out: oc, layer: layer), 64)
        XCTAssertEqual(try RankSpec.absolute(576).resolve(in: c, out: oc, layer: layer), 576)
        XCTAssertEqual(try RankSpec.fraction(0.25).resolve(in: c, out: oc, layer: layer), 144)
        XCTAssertEqual(try RankSpec.fraction(1).resolve(in: c, out: oc, layer: layer), 576)
        XCTAssertEqual(try RankSpec.fraction(1e-6).resolve(in: c, out: oc, layer: layer), 1, "at least rank 1")
        XCTAssertEqual(try RankSpec.fraction(0.5).resolve(in: 3, out: 5, layer: layer), 2, "round(1.5) = 2")

        assertThrows(.rankOutOfRange(layer: layer, rank: 577, inFeatures: c, outFeatures: oc), mentions: [layer, "577", "576"]) {
            try RankSpec.absolute(577).resolve(in: c, out: oc, layer: layer)
        }
        assertThrows(.rankOutOfRange(layer: layer, rank: 0, inFeatures: c, outFeatures: oc), mentions: [layer, "rank 0"]) {
            try RankSpec.absolute(0).resolve(in: c, out: oc, layer: layer)
        }
        assertThrows(.fractionOutOfRange(layer: layer, value: 1.25), mentions: [layer, "1.25"]) { try RankSpec.fraction(1.25).resolve(in: c, out: oc, layer: layer) }
        assertThrows(.fractionOutOfRange(layer: layer, value: -0.5), mentions: [layer, "-0.5"]) { try RankSpec.fraction(-0.5).resolve(in: c, out: oc, layer: layer) }
        assertThrows(.energyOutOfRange(layer: layer, value: 0), mentions: [layer]) { try RankSpec.energy(0).resolve(in: c, out: oc, layer: layer) }
        assertThrows(.singularValuesRequired(layer: layer), mentions: [layer]) { try RankSpec.energy(0.9).resolve(in: c, out: oc, layer: layer) }
        assertThrows(.singularValueCount(layer: layer, expected: 4, found: 3), mentions: [layer]) {
            try RankSpec.energy(0.9).resolve(in: 4, out: 6, singularValues: [3, 2, 1], layer: layer)
        }

        // energy: squares 16, 9, 4, 1 of total 30 -> cumulative shares 0.533, 0.833, 0.967, 1
        let s: [Float] = [4, 3, 2, 1]
        for (e, expected) in [(0.5, 1), (16.0 / 30, 1), (0.8, 2), (0.9, 3), (0.97, 4), (1.0, 4)] {
            XCTAssertEqual(try RankSpec.energy(e).resolve(in: 4, out: 9, singularValues: s, layer: layer), expected, "energy \(e)")
        }
        XCTAssertEqual(RankSpec.energyRank(singularValues: [0, 0, 0], threshold: 0.9), 1, "zero matrix")
        XCTAssertEqual(RankSpec.energyRank(singularValues: [2, 1, 0, 0], threshold: 1), 2, "exact zeros in the tail are not needed")
    }

    func testPlanParsing() throws {
        let uniform = try LowRankPlan(parsing: "0.25")
        for kind in LowRankPlan.LayerKind.allCases {
            XCTAssertEqual(uniform[kind], kind == .head ? .dense : .fraction(0.25), kind.rawValue)
        }
        let plan = try LowRankPlan(parsing: "qkv=0.25, attn_out=0.25,mlp_up=64,MLP_DOWN=dense")
        XCTAssertEqual(plan[.qkv], .fraction(0.25))
        XCTAssertEqual(plan[.attentionOutput], .fraction(0.25))
        XCTAssertEqual(plan[.mlpUp], .absolute(64))
        XCTAssertEqual(plan[.mlpDown], .dense)
        XCTAssertEqual(plan[.head], .dense)
        XCTAssertFalse(plan.isDense)
        XCTAssertEqual(try plan.rank(for: .mlpUp, layer: "blk.0.ffn_up", in: 576, out: 1536), 64)
        XCTAssertNil(try plan.rank(for: .mlpDown, layer: "blk.0.ffn_down", in: 1536, out: 576))

        let withAll = try LowRankPlan(parsing: "mlp_down=dense,all=e0.95,head=e0.99")
        XCTAssertEqual(withAll[.qkv], .energy(0.95))
        XCTAssertEqual(withAll[.mlpUp], .energy(0.95))
        XCTAssertEqual(withAll[.mlpDown], .dense, "explicit entries win over all, whatever the order")
        XCTAssertEqual(withAll[.head], .energy(0.99))

        XCTAssertTrue(try LowRankPlan(parsing: "dense").isDense)
        XCTAssertTrue(LowRankPlan.dense.isDense)
        XCTAssertEqual(try LowRankPlan(parsing: "dense"), LowRankPlan.dense)
        XCTAssertEqual(try LowRankPlan(uniform: .absolute(32)), try LowRankPlan(parsing: "all=32"))

        // canonical description and Codable round trips
        XCTAssertEqual(plan.description, "qkv=0.25,attn_out=0.25,mlp_up=64,mlp_down=dense,head=dense")
        for p in [plan, withAll, uniform, LowRankPlan.dense] {
            XCTAssertEqual(try LowRankPlan(parsing: p.description), p)
            XCTAssertEqual(try JSONDecoder().decode(LowRankPlan.self, from: JSONEncoder().encode(p)), p)
        }
    }

    func testPlanParsingErrors() {
        func error(_ text: String) -> LowRankError? {
            do { _ = try LowRankPlan(parsing: text); return nil } catch { return error as? LowRankError }
        }
        for (text, fragment) in [("", "empty"), ("qkv=0.25,qkv=0.5", "'qkv' is given twice"), ("all=1,all=2", "twice"),
                                 ("ffn=0.5", "unknown layer kind 'ffn'"), ("qkv=0.25,,mlp_up=2", "empty"),
                                 ("qkv=0.25,mlp_up", "not kind=spec"), ("qkv==3", "not kind=spec"), ("=0.5", "unknown layer kind ''")] {
            guard let e = error(text), case .invalidPlan(let t, let reason) = e else { XCTFail("'\(text)' should fail as a plan, got \(String(describing: error(text)))"); continue }
            XCTAssertEqual(t, text)
            XCTAssertTrue(reason.contains(fragment), "'\(reason)' should contain '\(fragment)'")
        }
        // bad specs inside a plan name the kind
        XCTAssertEqual(error("qkv=0.25,mlp_up=1.5"), .fractionOutOfRange(layer: "mlp_up", value: 1.5))
        XCTAssertEqual(error("attn_out=e2"), .energyOutOfRange(layer: "attn_out", value: 2))
        guard case .invalidSpec(let t, let ctx, _)? = error("mlp_down=0") else { return XCTFail("rank 0 in a plan must fail") }
        XCTAssertEqual(t, "0")
        XCTAssertEqual(ctx, "mlp_down")
        guard case .invalidSpec(_, let ctx2, _)? = error("banana") else { return XCTFail("a bad single spec must fail") }
        XCTAssertEqual(ctx2, "all layers")
    }
}
