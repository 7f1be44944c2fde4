import Foundation
import XCTest
import IO
import Quantization
import Tensor
import TestSupport

/// The GGUF writer: byte-identical to the Python gguf package's writer, round trips, alignment,
/// typed errors, and (when Python's gguf is installed) loading by gguf-py and llama.cpp's parser.
final class GGUFWriterTests: XCTestCase {
    /// The inputs of dev/make_quant_goldens.py's writer golden.
    static var goldenRamp: [Float] { (0..<128).map { Float((($0 * 37) % 101) - 50) / 16 } }

    /// The same file as the golden, built with our writer.
    static func goldenEquivalent() throws -> GGUFWriter {
        var w = try GGUFWriter()
        let entries: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")),
            ("t.u8", .uint8(200)), ("t.i8", .int8(-100)), ("t.u16", .uint16(60000)), ("t.i16", .int16(-30000)),
            ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)), ("t.f32", .float32(0.15625)),
            ("t.bool", .bool(true)), ("t.string", .string("ünïcødé ✓")), ("t.u64", .uint64(UInt64.max)),
            ("t.i64", .int64(-9_000_000_000_000)), ("t.f64", .float64(1e-300)),
            ("t.strings", .array(elementType: .string, values: [.string("a"), .string(""), .string("Ġhello")])),
            ("t.ints", .array(elementType: .int32, values: [.int32(1), .int32(-2), .int32(3)])),
            ("t.floats", .array(elementType: .float32, values: [.float32(0.5), .float32(-1.5)])),
            ("general.quantization_version", .uint32(2)),
        ]
        for (k, v) in entries { w.setValue(v, forKey: k) }
        let ramp = goldenRamp
        for (name, type) in [("w.f32", GGMLType.f32), ("w.f16", .f16), ("w.q8_0", .q8_0), ("w.q4_0", .q4_0), ("w.q4_1", .q4_1)] {
            try w.addTensor(name, shape: [2, 64], values: ramp, as: type)
        }
        try w.addTensor("v.f32", shape: [5], values: Array(ramp[0..<5]), as: .f32)
        return w
    }

    func testByteIdenticalToGGUFPackageWriter() throws {
        guard let url = Bundle.module.url(forResource: "gguf_writer_golden", withExtension: "gguf", subdirectory: "Fixtures") else {
            return XCTFail("fixture gguf_writer_golden.gguf missing")
        }
        let golden = try Data(contentsOf: url)
        let ours = try Self.goldenEquivalent().encoded()
        XCTAssertEqual(ours.count, golden.count)
        if let i = zip(ours, golden).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            XCTFail("first difference at byte \(i): \(ours[i]) vs \(golden[i])")
        }
    }

    func testRoundTripKeepsMetadataAndTensors() throws {
        var w = try GGUFWriter(alignment: 64)
        w.setValue(.string("llama"), forKey: "general.architecture")
        w.setValue(.array(elementType: .array, values: [.array(elementType: .uint8, values: [.uint8(1)]),
                                                        .array(elementType: .string, values: [.string("x")])]), forKey: "t.nested")
        w.setValue(.float32(1), forKey: "t.replaced")
        w.setValue(.float64(2), forKey: "t.replaced")
        var rng = RandomGenerator(seed: 4)
        let weights = Tensor.normal([3, 96], std: 0.1, rng: &rng)
        let types: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1]
        for type in types { try w.addTensor("w.\(type)", weights, as: type) }
        let k = (0..<144).map { UInt8($0) }   // one Q4_K super-block, stored as given
        try k.withUnsafeBytes { try w.addEncodedTensor("k.q4_K", dimensions: [256], type: .q4_K, bytes: $0) }
        XCTAssertEqual(w.tensorNames.count, types.count + 1)

        let dir = try FixturePaths.makeTemporaryDirectory("gguf-writer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.gguf").path
        try w.write(to: path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), try w.encoded())

        let f = try GGUFFile(path: path)
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.metadataKeys, ["general.alignment", "general.architecture", "t.nested", "t.replaced"])
        XCTAssertEqual(f.metadata["t.replaced"], .float64(2))
        XCTAssertEqual(f.metadata["general.alignment"], .uint32(64))
        XCTAssertEqual(f.metadata["t.nested"], w.metadata[2].value)
        // Offsets aligned and packed: each tensor starts at the first aligned offset after the previous one.
        var next = 0
        for t in f.tensors {
            XCTAssertEqual(t.relativeOffset, next, t.name)
            XCTAssertEqual(t.absoluteOffset % 64, 0)
            next = (t.relativeOffset + t.byteCount + 63) / 64 * 64
        }
        XCTAssertEqual(f.dataOffset + next, f.fileSize)
        for type in types {
            let name = "w.\(type)"
            let info = try f.tensor(named: name)
            XCTAssertEqual(info.rowMajorShape, [3, 96])
            XCTAssertEqual(info.type, type)
            XCTAssertEqual(Array(f.tensorData(info)), try type.quantize(weights.array), name)   // identical bytes
            let expected = try type.dequantize(try type.quantize(weights.array), count: 288, reference: true)
            XCTAssertEqual(try f.floats(name), expected, name)
        }
        XCTAssertEqual(try f.floats("w.F32"), weights.array)
        XCTAssertEqual(Array(try f.tensorData(named: "k.q4_K")), k)

        // Copying tensors into a new file keeps their bytes.
        var copy = try GGUFWriter()
        for t in f.tensors { try copy.addTensor(copying: t.name, from: f) }
        let g = try GGUFFile(data: try copy.encoded())
        for t in f.tensors { XCTAssertEqual(Array(try g.tensorData(named: t.name)), Array(f.tensorData(t))) }
        XCTAssertEqual(g.alignment, 32)
    }

    func testInvalidTensorsAndMetadataThrowTypedErrors() throws {
        var w = try GGUFWriter()
        func expectInvalid(_ body: () throws -> Void, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { e in
                guard case IOError.invalidTensor(_, _, let reason) = e else { return XCTFail("\(e)", line: line) }
                XCTAssertTrue(reason.contains(fragment), reason, line: line)
            }
        }
        try w.addTensor("a", shape: [2, 32], values: [Float](repeating: 1, count: 64), as: .q8_0)
        expectInvalid({ try w.addTensor("a", shape: [32], values: [Float](repeating: 1, count: 32), as: .f32) }, "already")
        expectInvalid({ try w.addTensor("b", shape: [2, 32], values: [Float](repeating: 1, count: 63), as: .f32) }, "do not match shape")
        expectInvalid({ try w.addTensor("b", shape: [2, 48], values: [Float](repeating: 1, count: 96), as: .q4_1) }, "whole number")
        expectInvalid({ try w.addTensor("b", shape: [1, 1, 1, 1, 32], values: [Float](repeating: 1, count: 32), as: .f32) }, "more than 4")
        expectInvalid({ try w.addTensor("b", shape: [256], values: [Float](repeating: 1, count: 256), as: .q4_K) }, "not supported")
        expectInvalid({ try w.addTensor("", shape: [1], values: [1], as: .f32) }, "empty")
        expectInvalid({ try [UInt8](repeating: 0, count: 33).withUnsafeBytes { try w.addEncodedTensor("b", dimensions: [32], type: .q8_0, bytes: $0) } },
                      "33 bytes")
        XCTAssertEqual(w.tensorNames, ["a"])
        XCTAssertThrowsError(try GGUFWriter(alignment: 48)) { e in
            guard case IOError.invalidValue(_, _, "general.alignment", _) = e else { return XCTFail("\(e)") }
        }
        w.setValue(.array(elementType: .int32, values: [.int32(1), .string("x")]), forKey: "bad.array")
        XCTAssertThrowsError(try w.encoded()) { e in
            guard case IOError.invalidValue(_, _, "bad.array", let reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("string"), reason)
        }
        w.setValue(.uint32(1), forKey: "bad.array")
        w.setValue(.uint32(64), forKey: "general.alignment")
        XCTAssertThrowsError(try w.encoded()) { e in
            guard case IOError.invalidValue(_, _, "general.alignment", _) = e else { return XCTFail("\(e)") }
        }
        // A failed write leaves nothing behind.
        let dir = try FixturePaths.makeTemporaryDirectory("gguf-writer-fail")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try w.write(to: dir.appendingPathComponent("x.gguf").path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    /// Reads our output with the Python gguf package's GGUFReader (and, when bench/build_llamacpp.sh
    /// has built it, llama.cpp's own gguf_init_from_file) through dev/make_quant_goldens.py.
    func testPythonGGUFReaderAndLlamaCppLoadOurFile() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import gguf, numpy"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { throw XCTSkip("python3 not available") }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else { throw XCTSkip("python package gguf not installed (pip install gguf numpy)") }

        var w = try Self.goldenEquivalent()
        var rng = RandomGenerator(seed: 9)
        try w.addTensor("big.q4_1", Tensor.normal([64, 96], std: 0.2, rng: &rng), as: .q4_1)
        let dir = try FixturePaths.makeTemporaryDirectory("gguf-python")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ours.gguf").path
        try w.write(to: path)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", FixturePaths.repositoryRoot.appendingPathComponent("dev/make_quant_goldens.py").path, "--check-gguf", path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let kv = json["kv"] as! [String: Any]
        XCTAssertEqual(kv["general.architecture"] as? String, "llama")
        XCTAssertEqual(kv["t.strings"] as? [String], ["a", "", "Ġhello"])
        XCTAssertEqual((kv["t.u64"] as? NSNumber)?.uint64Value, UInt64.max)
        XCTAssertEqual(kv["t.string"] as? String, "ünïcødé ✓")
        let f = try GGUFFile(path: path)
        let tensors = json["tensors"] as! [[String: Any]]
        XCTAssertEqual(tensors.map { $0["name"] as! String }, f.tensors.map(\.name))
        for (t, info) in zip(tensors, f.tensors) {
            XCTAssertEqual(t["type"] as? String, info.type.description)
            XCTAssertEqual(t["offset"] as? Int, info.absoluteOffset)
            XCTAssertEqual(t["dims"] as? [Int], info.dimensions)
            let values = (t["values"] as! [Double]).map { Float($0) }
            XCTAssertEqual(values, Array(try f.floats(info).prefix(8)), info.name)
        }
        if let llama = json["llama_cpp"] as? [String: Any] {
            XCTAssertEqual(llama["n_tensors"] as? Int, f.tensors.count)
            XCTAssertEqual(llama["data_offset"] as? Int, f.dataOffset)
            let offsets = (llama["tensors"] as! [[Any]]).map { $0[2] as! Int }
            XCTAssertEqual(offsets, f.tensors.map(\.relativeOffset))
        }
    }
}
