import Foundation
import Quantization
import XCTest

/// The fixture written by dev/make_quant_goldens.py from the Python `gguf` package (cross-checked
/// there against llama.cpp's quantize_row_*_ref and dequantize_row_*).
struct GoldenFixture {
    struct Quantize { let type: GGMLType; let input: [Float]; let output: [UInt8] }
    struct Dequantize { let type: GGMLType; let count: Int; let input: [UInt8]; let output: [Float] }

    let quantize: [Quantize]
    let dequantize: [Dequantize]

    static func load() throws -> GoldenFixture {
        guard let url = Bundle.module.url(forResource: "ggml_goldens", withExtension: "json", subdirectory: "Fixtures") else {
            throw XCTSkip("fixture ggml_goldens.json missing from the test bundle")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func bytes(_ s: Any?) -> [UInt8] { [UInt8](Data(base64Encoded: s as! String)!) }
        func floats(_ s: Any?) -> [Float] {
            bytes(s).withUnsafeBytes { raw in (0..<(raw.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        }
        func type(_ d: [String: Any]) -> GGMLType { GGMLType(name: d["type"] as! String)! }
        let q = (json["quantize"] as! [[String: Any]]).map { Quantize(type: type($0), input: floats($0["input_f32"]), output: bytes($0["output"])) }
        let d = (json["dequantize"] as! [[String: Any]]).map {
            Dequantize(type: type($0), count: $0["count"] as! Int, input: bytes($0["input"]), output: floats($0["output_f32"]))
        }
        return GoldenFixture(quantize: q, dequantize: d)
    }
}

/// Bit-identical float arrays (any two NaNs count as equal).
func assertSameFloats(_ a: [Float], _ b: [Float], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(label): lengths", file: file, line: line)
    for i in 0..<min(a.count, b.count) where !(a[i].isNaN && b[i].isNaN) && a[i].bitPattern != b[i].bitPattern {
        XCTFail("\(label)[\(i)]: \(a[i]) vs \(b[i])", file: file, line: line)
        return
    }
}
