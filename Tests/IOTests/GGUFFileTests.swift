import Foundation
import XCTest
@testable import IO
import Tensor
import TestSupport

final class GGUFFileTests: XCTestCase {
    /// A file with every metadata value type (including nested arrays) and tensors of several types.
    static func sampleBuilder() -> GGUFBuilder {
        var b = GGUFBuilder()
        b.metadata = [
            ("general.architecture", .string("llama")),
            ("general.alignment", .u32(64)),
            ("t.u8", .u8(200)), ("t.i8", .i8(-100)), ("t.u16", .u16(60000)), ("t.i16", .i16(-30000)),
            ("t.u32", .u32(4_000_000_000)), ("t.i32", .i32(-2_000_000_000)), ("t.f32", .f32(0.15625)),
            ("t.bool", .bool(true)), ("t.string", .string("ünïcødé ✓ 中文")),
            ("t.u64", .u64(UInt64.max)), ("t.i64", .i64(-9_000_000_000_000)), ("t.f64", .f64(1e-300)),
            ("t.strings", .array(8, [.string("a"), .string(""), .string("Ġhello")])),
            ("t.ints", .array(5, [.i32(1), .i32(-2), .i32(3)])),
            ("t.floats", .array(6, [.f32(0.5), .f32(-1.5)])),
            ("t.empty", .array(4, [])),
            ("t.nested", .array(9, [.array(5, [.i32(1), .i32(2)]), .array(8, [.string("x")]), .array(9, [.array(0, [.u8(7)])])])),
        ]
        b.alignment = 64
        b.tensors = [
            .init(name: "token_embd.weight", dims: [4, 3], type: 0, data: (0..<48).map { UInt8($0) }),
            .init(name: "blk.0.attn_q.weight", dims: [32, 2], type: 2, data: (0..<36).map { UInt8(100 + $0) }),
            .init(name: "blk.0.ffn.weight", dims: [64], type: 8, data: (0..<68).map { UInt8(255 - $0) }),
            .init(name: "q4k", dims: [256, 1, 1, 1], type: 12, data: [UInt8](repeating: 9, count: 144)),
            .init(name: "q6k", dims: [256], type: 14, data: [UInt8](repeating: 6, count: 210)),
            .init(name: "half", dims: [3], type: 1, data: [1, 2, 3, 4, 5, 6]),
            .init(name: "bf", dims: [2], type: 30, data: [7, 8, 9, 10]),
            .init(name: "q41", dims: [32], type: 3, data: [UInt8](repeating: 1, count: 20)),
            .init(name: "q50", dims: [32], type: 6, data: [UInt8](repeating: 2, count: 22)),
            .init(name: "q51", dims: [32], type: 7, data: [UInt8](repeating: 3, count: 24)),
        ]
        return b
    }

    func testParsesAllValueTypesAndTensors() throws {
        let b = Self.sampleBuilder()
        let f = try GGUFFile(data: b.build(), name: "sample.gguf")
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.metadataKeys, b.metadata.map(\.0))
        XCTAssertEqual(f.architecture, "llama")
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.metadata["t.u8"], .uint8(200))
        XCTAssertEqual(f.metadata["t.i8"], .int8(-100))
        XCTAssertEqual(f.metadata["t.u16"], .uint16(60000))
        XCTAssertEqual(f.metadata["t.i16"], .int16(-30000))
        XCTAssertEqual(f.metadata["t.u32"], .uint32(4_000_000_000))
        XCTAssertEqual(f.metadata["t.i32"], .int32(-2_000_000_000))
        XCTAssertEqual(f.metadata["t.f32"], .float32(0.15625))
        XCTAssertEqual(f.metadata["t.bool"], .bool(true))
        XCTAssertEqual(f.metadata["t.string"], .string("ünïcødé ✓ 中文"))
        XCTAssertEqual(f.metadata["t.u64"], .uint64(UInt64.max))
        XCTAssertEqual(f.metadata["t.i64"], .int64(-9_000_000_000_000))
        XCTAssertEqual(f.metadata["t.f64"], .float64(1e-300))
        XCTAssertEqual(f.metadata["t.empty"], .array(elementType: .uint32, values: []))
        XCTAssertEqual(f.metadata["t.nested"], .array(elementType: .array, values: [
            .array(elementType: .int32, values: [.int32(1), .int32(2)]),
            .array(elementType: .string, values: [.string("x")]),
            .array(elementType: .array, values: [.array(elementType: .uint8, values: [.uint8(7)])]),
        ]))

        XCTAssertEqual(try f.string("t.string"), "ünïcødé ✓ 中文")
        XCTAssertEqual(try f.int("t.u32"), 4_000_000_000)
        XCTAssertEqual(try f.int("t.i8"), -100)
        XCTAssertEqual(try f.float("t.f32"), 0.15625)
        XCTAssertEqual(try f.bool("t.bool"), true)
        XCTAssertEqual(try f.stringArray("t.strings"), ["a", "", "Ġhello"])
        XCTAssertEqual(try f.intArray("t.ints"), [1, -2, 3])
        XCTAssertEqual(try f.floatArray("t.floats"), [0.5, -1.5])

        // Tensor directory and data ranges.
        XCTAssertEqual(f.tensors.map(\.name), b.tensors.map(\.name))
        XCTAssertEqual(f.dataOffset % 64, 0)
        var expectedRelative = 0
        for (spec, info) in zip(b.tensors, f.tensors) {
            XCTAssertEqual(info.dimensions, spec.dims.map { Int($0) })
            XCTAssertEqual(info.type.rawValue, spec.type)
            XCTAssertEqual(info.byteCount, spec.data.count, info.name)
            XCTAssertEqual(info.elementCount, spec.dims.reduce(1) { $0 * Int($1) })
            XCTAssertEqual(info.relativeOffset, expectedRelative)
            XCTAssertEqual(info.absoluteOffset, f.dataOffset + expectedRelative)
            XCTAssertEqual(Array(f.tensorData(info)), spec.data, info.name)
            expectedRelative = (expectedRelative + spec.data.count + 63) / 64 * 64
        }
        XCTAssertEqual(try f.tensor(named: "token_embd.weight").rowMajorShape, [3, 4])
        XCTAssertEqual(Array(try f.tensorData(named: "half")), [1, 2, 3, 4, 5, 6])
    }

    func testAccessorErrorsNameFileAndKey() throws {
        let f = try GGUFFile(data: Self.sampleBuilder().build(), name: "sample.gguf")
        XCTAssertThrowsError(try f.int("llama.block_count")) { e in
            XCTAssertEqual(e as? IOError, .missingKey(file: "sample.gguf", key: "llama.block_count"))
            XCTAssertTrue("\(e)".contains("sample.gguf") && "\(e)".contains("llama.block_count"))
        }
        XCTAssertThrowsError(try f.int("t.string")) { e in
            XCTAssertEqual(e as? IOError, .typeMismatch(file: "sample.gguf", key: "t.string", expected: "integer", found: "string"))
        }
        XCTAssertThrowsError(try f.stringArray("t.ints")) { e in
            XCTAssertEqual(e as? IOError, .typeMismatch(file: "sample.gguf", key: "t.ints", expected: "array<string>", found: "array<int32>"))
        }
        XCTAssertThrowsError(try f.float("t.u8"))
        XCTAssertThrowsError(try f.bool("t.u8"))
        XCTAssertThrowsError(try f.intArray("t.strings"))
        XCTAssertThrowsError(try f.tensor(named: "nope")) { e in
            XCTAssertEqual(e as? IOError, .missingTensor(file: "sample.gguf", name: "nope"))
        }
    }

    func testVersionsAndMagic() throws {
        var b = Self.sampleBuilder()
        b.version = 2
        XCTAssertEqual(try GGUFFile(data: b.build()).version, 2)
        b.version = 1
        XCTAssertThrowsError(try GGUFFile(data: b.build(), name: "old.gguf")) { e in
            XCTAssertEqual(e as? IOError, .unsupportedVersion(file: "old.gguf", version: 1, supported: "2, 3"))
        }
        b.version = 3
        b.magic = Array("GGML".utf8)
        XCTAssertThrowsError(try GGUFFile(data: b.build(), name: "x.bin")) { e in
            guard case IOError.badMagic(let file, _, let found) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(file, "x.bin")
            XCTAssertTrue(found.contains("GGML"), found)
        }
        XCTAssertThrowsError(try GGUFFile(data: Data(), name: "empty.gguf")) { e in
            guard case IOError.truncated(let file, 0, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(file, "empty.gguf")
        }
    }

    func testDefaultAlignmentAndNoTensors() throws {
        var b = GGUFBuilder()
        b.metadata = [("general.name", .string("tiny"))]
        b.tensors = [.init(name: "w", dims: [5], type: 0, data: [UInt8](repeating: 1, count: 20))]
        let f = try GGUFFile(data: b.build())
        XCTAssertEqual(f.alignment, 32)
        XCTAssertEqual(f.dataOffset % 32, 0)
        XCTAssertEqual(f.tensors[0].absoluteOffset, f.dataOffset)
        var empty = GGUFBuilder()
        empty.metadata = [("k", .bool(false))]
        let g = try GGUFFile(data: empty.build())
        XCTAssertTrue(g.tensors.isEmpty)
        XCTAssertEqual(g.metadata["k"], .bool(false))
    }

    func testEveryTruncationThrows() throws {
        let data = Self.sampleBuilder().build()
        let full = try GGUFFile(data: data)
        let last = full.tensors.map { $0.absoluteOffset + $0.byteCount }.max()!
        for n in 0..<last {
            XCTAssertThrowsError(try GGUFFile(data: data.prefix(n), name: "cut.gguf"), "prefix \(n)") { e in
                XCTAssertTrue(e is IOError, "prefix \(n): \(e)")
                XCTAssertTrue("\(e)".contains("cut.gguf"))
            }
        }
    }

    func testHugeCountsAreRejectedWithoutAllocating() throws {
        for count in [UInt64.max, 1 << 40, 1_000_000] {
            var b = Self.sampleBuilder()
            b.tensorCountOverride = count
            XCTAssertThrowsError(try GGUFFile(data: b.build())) { e in
                guard case IOError.invalidValue(_, 8, "tensor count", _) = e else { return XCTFail("\(e)") }
            }
            b = Self.sampleBuilder()
            b.metadataCountOverride = count
            XCTAssertThrowsError(try GGUFFile(data: b.build())) { e in
                guard case IOError.invalidValue(_, 16, "metadata key-value count", _) = e else { return XCTFail("\(e)") }
            }
        }
        var b = GGUFBuilder()
        b.metadata = [("huge.array", .raw(9, GGUFBuilder.le(UInt32(0)) + GGUFBuilder.le(UInt64(1) << 60)))]
        XCTAssertThrowsError(try GGUFFile(data: b.build())) { e in
            guard case IOError.invalidValue(_, _, "huge.array", _) = e else { return XCTFail("\(e)") }
        }
        b.metadata = [("huge.string", .raw(8, GGUFBuilder.le(UInt64.max) + [1, 2, 3]))]
        XCTAssertThrowsError(try GGUFFile(data: b.build())) { e in
            guard case IOError.truncated = e else { return XCTFail("\(e)") }
        }
    }

    func testBadTensorInfosThrow() throws {
        func expectError(_ mutate: (inout GGUFBuilder) -> Void, file: StaticString = #filePath, line: UInt = #line,
                         _ check: (IOError) -> Bool) {
            var b = GGUFBuilder()
            b.metadata = [("general.architecture", .string("llama"))]
            b.tensors = [.init(name: "a", dims: [8], type: 0, data: [UInt8](repeating: 0, count: 32)),
                         .init(name: "b", dims: [32], type: 8, data: [UInt8](repeating: 0, count: 34))]
            mutate(&b)
            XCTAssertThrowsError(try GGUFFile(data: b.build(), name: "bad.gguf"), file: file, line: line) { e in
                guard let io = e as? IOError else { return XCTFail("not an IOError: \(e)", file: file, line: line) }
                XCTAssertTrue(check(io), "\(io)", file: file, line: line)
                XCTAssertTrue(io.description.contains("bad.gguf"), file: file, line: line)
            }
        }
        // Unknown ggml type id.
        expectError({ $0.tensors[1].type = 99 }) { $0 == .unknownTensorType(file: "bad.gguf", tensor: "b", typeID: 99) }
        // More than four dimensions.
        expectError({ $0.tensors[0].dims = [1, 1, 1, 1, 8] }) {
            if case .invalidValue(_, _, let key, let reason) = $0 { return key.contains("'a'") && reason.contains("5 dimensions") }
            return false
        }
        // Data beyond the end of the file.
        expectError({ $0.tensors[1].offsetOverride = 1 << 20 }) {
            if case .invalidValue(_, _, let key, _) = $0 { return key.contains("'b'") }
            return false
        }
        expectError({ $0.tensors[1].dims = [32 * 100] }) {
            if case .invalidValue(_, _, let key, let reason) = $0 { return key.contains("'b'") && reason.contains("beyond") }
            return false
        }
        // Element count overflow.
        expectError({ $0.tensors[0].dims = [1 << 40, 1 << 40] }) {
            if case .invalidValue(_, _, _, let reason) = $0 { return reason.contains("overflow") }
            return false
        }
        expectError({ $0.tensors[0].dims = [UInt64.max] }) {
            if case .invalidValue = $0 { return true }
            return false
        }
        // Not a whole number of quantization blocks.
        expectError({ $0.tensors[1].dims = [31] }) {
            if case .invalidValue(_, _, _, let reason) = $0 { return reason.contains("blocks") }
            return false
        }
        // Misaligned offset, duplicate names, bad alignment values.
        expectError({ $0.tensors[1].offsetOverride = 33 }) {
            if case .invalidValue(_, _, _, let reason) = $0 { return reason.contains("alignment") }
            return false
        }
        expectError({ $0.tensors[1].name = "a" }) {
            if case .invalidValue(_, _, _, let reason) = $0 { return reason.contains("duplicate tensor") }
            return false
        }
        expectError({ $0.metadata.append(("general.alignment", .u32(48))) }) {
            if case .invalidValue(_, _, "general.alignment", _) = $0 { return true }
            return false
        }
        expectError({ $0.metadata.append(("general.alignment", .u64(32))) }) {
            if case .typeMismatch(_, "general.alignment", "uint32", "uint64") = $0 { return true }
            return false
        }
        expectError({ $0.metadata.append(("general.architecture", .string("gpt2"))) }) {
            if case .invalidValue(_, _, "general.architecture", let reason) = $0 { return reason.contains("duplicate") }
            return false
        }
        expectError({ $0.metadata.append(("weird", .raw(13, [0, 0, 0, 0]))) }) {
            if case .invalidValue(_, _, "weird", let reason) = $0 { return reason.contains("unknown metadata value type 13") }
            return false
        }
        expectError({ $0.metadata.append(("flag", .raw(7, [5]))) }) {
            if case .invalidValue = $0 { return true }
            return false
        }
        // Arrays nested deeper than the limit.
        var deep = GGUFBuilder.Value.array(0, [])
        for _ in 0..<40 { deep = .array(9, [deep]) }
        let nested = deep
        expectError({ $0.metadata.append(("deep", nested)) }) {
            if case .invalidValue(_, _, "deep", let reason) = $0 { return reason.contains("nested") }
            return false
        }
    }

    /// Thousands of seeded random corruptions of a valid file: parsing must throw an IOError or
    /// succeed, never trap; successful parses must keep every tensor range inside the file.
    func testFuzzedMutationsNeverTrap() throws {
        let original = [UInt8](Self.sampleBuilder().build())
        var rng = RandomGenerator(seed: 20240520)
        var failures = 0, successes = 0
        for iteration in 0..<3000 {
            var bytes = original
            let mutations = 1 + rng.nextInt(below: 6)
            for _ in 0..<mutations {
                let at = rng.nextInt(below: bytes.count)
                switch rng.nextInt(below: 4) {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[at] = 0xFF
                case 2: bytes[at] ^= UInt8(1 << rng.nextInt(below: 8))
                default: bytes[at] = 0
                }
            }
            if rng.nextInt(below: 4) == 0 { bytes = Array(bytes.prefix(rng.nextInt(below: bytes.count))) }
            do {
                let f = try GGUFFile(data: Data(bytes), name: "fuzz-\(iteration)")
                for t in f.tensors {
                    XCTAssertLessThanOrEqual(t.absoluteOffset + t.byteCount, bytes.count)
                    // Tensor data paths: decoding any surviving tensor must not trap.
                    XCTAssertEqual(try f.floats(t).count, t.elementCount)
                    if t.dimensions.count <= 2, let m = try? f.quantizedMatrix(t.name) {
                        var y = [Float](repeating: 0, count: m.rows)
                        m.gemv([Float](repeating: 1, count: m.columns), into: &y)
                    }
                }
                successes += 1
            } catch let e as IOError {
                XCTAssertFalse(e.description.isEmpty)
                failures += 1
            } catch {
                XCTFail("iteration \(iteration): non-IOError \(error)")
            }
        }
        XCTAssertGreaterThan(failures, 1000)
        XCTAssertGreaterThan(successes, 0)
    }

    func testRealSmolLM2File() throws {
        guard let path = FixturePaths.smolLM2Model else {
            throw XCTSkip("SmolLM2 GGUF not found (run `make setup` or set FINGPT_MODEL)")
        }
        let f = try GGUFFile(path: path)
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.architecture, "llama")
        XCTAssertEqual(try f.int("llama.block_count"), 30)
        XCTAssertEqual(try f.int("llama.embedding_length"), 576)
        XCTAssertEqual(try f.int("llama.attention.head_count_kv"), 3)
        XCTAssertEqual(try f.float("llama.rope.freq_base"), 100_000)
        XCTAssertEqual(try f.string("tokenizer.ggml.model"), "gpt2")
        XCTAssertEqual(try f.string("tokenizer.ggml.pre"), "smollm")
        XCTAssertEqual(try f.stringArray("tokenizer.ggml.tokens").count, 49152)
        XCTAssertEqual(try f.stringArray("tokenizer.ggml.merges").prefix(3), ["Ġ t", "Ġ a", "i n"])
        XCTAssertEqual(f.metadata.count, 33)   // the header's kv_count, as gguf-py reports it
        XCTAssertEqual(f.tensors.count, 272)
        // Reference values from the Python `gguf` package's GGUFReader on the same file.
        XCTAssertEqual(f.alignment, 32)
        XCTAssertEqual(f.dataOffset, 1_785_664)
        let embd = try f.tensor(named: "token_embd.weight")
        XCTAssertEqual(embd.type, .q8_0)
        XCTAssertEqual(embd.dimensions, [576, 49152])
        XCTAssertEqual(embd.absoluteOffset, 1_785_664)
        XCTAssertEqual(embd.byteCount, 30_081_024)
        let down = try f.tensor(named: "blk.0.ffn_down.weight")
        XCTAssertEqual(down.type, .q4_1)
        XCTAssertEqual(down.dimensions, [1536, 576])
        XCTAssertEqual(down.absoluteOffset, 31_868_992)
        XCTAssertEqual(down.byteCount, 552_960)
        let norm = try f.tensor(named: "output_norm.weight")
        XCTAssertEqual(norm.type, .f32)
        XCTAssertEqual(norm.absoluteOffset + norm.byteCount, f.fileSize)
        XCTAssertEqual(Dictionary(grouping: f.tensors, by: \.type).mapValues(\.count), [.q4_1: 210, .f32: 61, .q8_0: 1])
    }
}
