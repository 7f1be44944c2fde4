import Foundation
import Inference
import IO
import Models
import Quantization
import Tensor
import TestSupport
import Tokenizers
import XCTest

/// Merging an adapter into a quantized GGUF base in the base's own block types: untouched tensors
/// are copied, adapted ones re-rounded onto their base blocks' grids (`MergedTensorEncoder`).
final class BaseGridMergeTests: XCTestCase {
    /// q, k, v, o, up and down adapted; gate, the embedding, the head and the norms untouched.
    static let targets: [LoRATarget] = [.query, .key, .value, .output, .up, .down]

    /// The tiny model as a Q4_1 GGUF (Q8_0 embedding) whose blocks no reference quantizer would write,
    /// as with llama.cpp's importance-matrix quantizers: Q4_1 codes kept within 1...14, Q8_0 codes
    /// scaled to 3/4. Quantizing its decoded values afresh changes every such block.
    static func offGridBase(_ model: LlamaModel, in dir: URL) throws -> String {
        let plain = dir.appendingPathComponent("plain-q4_1.gguf").path
        try GGUFExporter.writeLlama(model: model, tokenizer: try ModelConverterTests.byteTokenizer(), type: .q4_1, name: "tiny", to: plain)
        let source = try GGUFFile(path: plain)
        var w = try GGUFWriter()
        for key in source.metadataKeys { w.setValue(source.metadata[key]!, forKey: key) }
        for t in source.tensors {
            var bytes = Array(source.tensorData(t))
            switch t.type {
            case .q4_1:
                for b in stride(from: 0, to: bytes.count, by: 20) {
                    for j in 4..<20 {
                        let lo = min(14, max(1, bytes[b + j] & 0x0F)), hi = min(14, max(1, bytes[b + j] >> 4))
                        bytes[b + j] = lo | hi << 4
                    }
                }
            case .q8_0:
                for b in stride(from: 0, to: bytes.count, by: 34) {
                    for j in 2..<34 { bytes[b + j] = UInt8(bitPattern: Int8(Int(Int8(bitPattern: bytes[b + j])) * 3 / 4)) }
                }
            default: break
            }
            try bytes.withUnsafeBytes { try w.addEncodedTensor(t.name, dimensions: t.dimensions, type: t.type, bytes: $0) }
        }
        let path = dir.appendingPathComponent("base-q4_1.gguf").path
        try w.write(to: path)
        return path
    }

    /// A PEFT adapter folder for `config` with B ~ N(0, bStd) (B = 0 gives the zero adapter).
    static func savedAdapter(for config: LlamaConfig, bStd: Float, seed: UInt64, in dir: URL) throws -> (path: String, adapter: LoRAAdapter) {
        let cfg = try LoRAConfig(rank: 4, alpha: 8, targets: targets)
        var rng = RandomGenerator(seed: seed)
        let adapter = try LoRAAdapter(config: cfg, base: .llama(config), rng: &rng)
        if bStd > 0 { for m in adapter.modules { rng.fillNormal(adapter.b(m).buffer, std: bStd) } }
        let path = dir.appendingPathComponent("adapter-\(seed)").path
        try LoRAPEFTFormat.save(adapter, to: path)
        return (path, adapter)
    }

    static func bytes(_ file: GGUFFile, _ name: String) throws -> [UInt8] { Array(file.tensorData(try file.tensor(named: name))) }

    func testZeroAdapterReproducesEveryBaseTensorByteForByte() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("grid-merge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ModelConverterTests.tinyModel()
        let basePath = try Self.offGridBase(model, in: dir)
        let base = try GGUFFile(path: basePath)
        let (zero, _) = try Self.savedAdapter(for: model.config, bStd: 0, seed: 1, in: dir)
        for mode in [MergeRequantization.baseGrid, .baseGridStochastic] {
            let out = dir.appendingPathComponent("merged-\(mode.rawValue).gguf").path
            let summary = try ModelConverter.merge(base: basePath, adapter: zero, output: out, target: .q4_1, requantization: mode)
            XCTAssertTrue(summary.contains("9 unchanged tensors copied from the base, 12 adapted tensors re-rounded on the base Q4_1 grid"), summary)
            XCTAssertTrue(summary.contains("0.00% of codes changed, 0 of 1536 blocks beyond the grid"), summary)
            let merged = try GGUFFile(path: out)
            XCTAssertEqual(merged.tensors.map(\.name), base.tensors.map(\.name))
            for t in base.tensors {
                let m = try merged.tensor(named: t.name)
                XCTAssertEqual(m.type, t.type, t.name)
                XCTAssertEqual(m.dimensions, t.dimensions, t.name)
                XCTAssertEqual(try Self.bytes(merged, t.name), try Self.bytes(base, t.name), "\(mode.rawValue): \(t.name)")
            }
        }
        // quantizing afresh changes the adapted blocks (so the test above is not vacuous); the
        // untouched tensors are still copied
        let fresh = dir.appendingPathComponent("merged-fresh.gguf").path
        let summary = try ModelConverter.merge(base: basePath, adapter: zero, output: fresh, target: .q4_1, requantization: .fresh)
        XCTAssertTrue(summary.contains("9 unchanged tensors copied from the base, 12 quantized afresh"), summary)
        let merged = try GGUFFile(path: fresh)
        XCTAssertNotEqual(try Self.bytes(merged, "blk.0.attn_q.weight"), try Self.bytes(base, "blk.0.attn_q.weight"))
        for name in ["token_embd.weight", "output.weight", "blk.1.ffn_gate.weight", "blk.1.attn_norm.weight"] {
            XCTAssertEqual(try Self.bytes(merged, name), try Self.bytes(base, name), name)
        }
        // another output type than the base's is quantized afresh
        let q8 = dir.appendingPathComponent("merged-q8_0.gguf").path
        XCTAssertTrue(try ModelConverter.merge(base: basePath, adapter: zero, output: q8, target: .q8_0).contains("6 unchanged tensors copied from the base, 15 quantized afresh"))
        XCTAssertEqual(try GGUFFile(path: q8).tensor(named: "blk.0.attn_q.weight").type, .q8_0)
    }

    func testBaseGridRoundsEveryAdaptedValueToTheNearestValueOfItsBaseBlock() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("grid-merge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ModelConverterTests.tinyModel()
        let basePath = try Self.offGridBase(model, in: dir)
        let base = try GGUFFile(path: basePath)
        let (path, adapter) = try Self.savedAdapter(for: model.config, bStd: 0.08, seed: 2, in: dir)
        let out = dir.appendingPathComponent("merged.gguf").path
        XCTAssertTrue(try ModelConverter.merge(base: basePath, adapter: path, output: out, target: .q4_1, requantization: .baseGrid).contains("nearest rounding"))
        let merged = try GGUFFile(path: out)
        // the merged values, in GGUF row order
        let float = try GGUFModelLoader.llamaModel(gguf: base)
        try LoRAMerge.merge(adapter, into: float)
        var blocks = 0, fresh = 0, changed = 0
        for module in adapter.modules {
            let name = TensorNameMapping.ggufName(forLlama: module.weightName)!
            var x = float.parameters[module.weightName].array
            if module.target == .query || module.target == .key {
                let hf = x
                hf.withUnsafeBytes { src in
                    x.withUnsafeMutableBytes { dst in
                        TensorNameMapping.permuteRotaryRows(src.baseAddress!, dst.baseAddress!, rows: module.outFeatures, rowBytes: module.inFeatures * 4,
                                                            headDim: model.config.headDim, toHuggingFace: false)
                    }
                }
            }
            let baseBytes = try Self.bytes(base, name), outBytes = try Self.bytes(merged, name)
            let result = try merged.floats(name), before = try base.floats(name)
            for b in 0..<(x.count / 32) {
                blocks += 1
                let o = 20 * b
                func half(_ bytes: [UInt8], _ at: Int) -> Float { HalfConversion.halfBitsToFloat(UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8) }
                let d = half(baseBytes, o), m = half(baseBytes, o + 2)
                let grid = (0...15).map { Float($0) * d + m }
                let values = Array(x[(32 * b)..<(32 * b + 32)])
                if values.contains(where: { $0 < m - d / 2 || $0 > grid[15] + d / 2 }) {
                    fresh += 1
                    XCTAssertEqual(Array(outBytes[o..<(o + 20)]), try GGMLType.q4_1.quantize(values), "\(name) block \(b) leaves its grid: quantized afresh")
                    continue
                }
                XCTAssertEqual(outBytes[o..<(o + 4)], baseBytes[o..<(o + 4)], "\(name) block \(b) keeps d and m")
                for j in 0..<32 {
                    let v = values[j], got = result[32 * b + j]
                    let nearest = grid.min { abs($0 - v) < abs($1 - v) }!
                    XCTAssertTrue(got == nearest || abs(got - v) == abs(nearest - v), "\(name)[\(32 * b + j)]: \(v) -> \(got), nearest \(nearest)")
                    if got != before[32 * b + j] { changed += 1 }
                }
            }
        }
        XCTAssertGreaterThan(changed, blocks * 32 / 20, "the update moves codes")
        XCTAssertLessThan(fresh, blocks / 4)
        XCTAssertGreaterThan(fresh, 0, "some blocks leave their grid")
    }

    func testStochasticMergeIsReproducibleAndSeeded() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("grid-merge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ModelConverterTests.tinyModel()
        let basePath = try Self.offGridBase(model, in: dir)
        let (path, _) = try Self.savedAdapter(for: model.config, bStd: 0.02, seed: 3, in: dir)
        func merged(_ name: String, seed: UInt64) throws -> Data {
            let out = dir.appendingPathComponent(name).path
            let summary = try ModelConverter.merge(base: basePath, adapter: path, output: out, target: .q4_1, seed: seed)
            XCTAssertTrue(summary.contains("stochastic rounding"), "the default for a Q4_1 base and target: \(summary)")
            return try Data(contentsOf: URL(fileURLWithPath: out))
        }
        let first = try merged("a.gguf", seed: 0)
        XCTAssertEqual(try merged("b.gguf", seed: 0), first, "byte-identical runs")
        XCTAssertNotEqual(try merged("c.gguf", seed: 1), first, "another seed, other draws")
    }

    func testBaseOfAnotherShapeOrWithOtherValuesIsRefusedNamingFileAndTensor() throws {
        let dir = try FixturePaths.makeTemporaryDirectory("grid-merge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ModelConverterTests.tinyModel(), tok = try ModelConverterTests.byteTokenizer()
        let basePath = try Self.offGridBase(model, in: dir)
        let out = dir.appendingPathComponent("out.gguf").path
        var wider = model.config
        wider.intermediateSize = 128
        // the base's values wherever the shapes agree, so the first difference is the shape of blk.0.ffn_gate
        let decoded = try GGUFModelLoader.llamaModel(gguf: try GGUFFile(path: basePath))
        let other = try LlamaModel(config: wider, seed: 5)
        for e in other.parameters.entries where decoded.parameters.entry(e.name)?.shape == e.shape {
            other.parameters[e.name].pointer.update(from: decoded.parameters[e.name].pointer, count: e.shape.reduce(1, *))
        }
        let encoder = MergedTensorEncoder(base: try GGUFFile(path: basePath), adaptedTensors: [], requantization: .baseGrid)
        XCTAssertThrowsError(try GGUFExporter.writeLlama(model: other, tokenizer: tok, type: .q4_1, name: "x", baseTensors: encoder, to: out)) {
            let message = "\($0)"
            XCTAssertTrue(message.contains(basePath) && message.contains("blk.0.ffn_gate.weight") && message.contains("shape [96, 64] in the base file"), message)
        }
        // same shapes, other values: an untouched tensor cannot be copied from this base
        let sameShape = try LlamaModel(config: model.config, seed: 6)
        XCTAssertThrowsError(try GGUFExporter.writeLlama(model: sameShape, tokenizer: tok, type: .q4_1, name: "x", baseTensors: encoder, to: out)) {
            let message = "\($0)"
            XCTAssertTrue(message.contains(basePath) && message.contains("token_embd.weight") && message.contains("no adapter module changes it"), message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written")
    }
}
