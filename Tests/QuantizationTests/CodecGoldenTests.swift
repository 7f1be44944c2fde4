import Quantization
import XCTest

/// Encoders and decoders against the gguf package / llama.cpp goldens, bit for bit.
final class CodecGoldenTests: XCTestCase {
    func testReferenceQuantizersMatchLlamaCppBitForBit() throws {
        let fixture = try GoldenFixture.load()
        XCTAssertEqual(Set(fixture.quantize.map(\.type)), [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .f16, .bf16])
        for g in fixture.quantize {
            let bytes = try g.type.quantize(g.input)
            XCTAssertEqual(bytes.count, g.output.count, "\(g.type)")
            if let i = zip(bytes, g.output).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                XCTFail("\(g.type): byte \(i) (block \(i / g.type.typeSize)) is \(bytes[i]), llama.cpp wrote \(g.output[i])")
            }
        }
    }

    func testDecodersMatchGGUFPackageBitForBit() throws {
        let fixture = try GoldenFixture.load()
        XCTAssertEqual(Set(fixture.dequantize.map(\.type)), [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q6_K, .f16, .bf16])
        for g in fixture.dequantize {
            assertSameFloats(try g.type.dequantize(g.input, count: g.count, reference: true), g.output, "\(g.type) reference")
            for isa in KernelISA.available {
                let fast = g.input.withUnsafeBytes { raw in
                    [Float](unsafeUninitializedCapacity: g.count) { out, n in
                        g.type.dequantizeRow(raw.baseAddress!, into: out.baseAddress!, count: g.count, isa: isa)
                        n = g.count
                    }
                }
                assertSameFloats(fast, g.output, "\(g.type) \(isa)")
            }
        }
    }

    /// Decoding what we encoded gives what the gguf package decodes from llama.cpp's encoding.
    func testRoundTripOfGoldenInputs() throws {
        let fixture = try GoldenFixture.load()
        for g in fixture.quantize {
            let ours = try g.type.dequantize(try g.type.quantize(g.input), count: g.input.count)
            let theirs = try g.type.dequantize(g.output, count: g.input.count, reference: true)
            assertSameFloats(ours, theirs, "\(g.type)")
        }
    }
}
