import Foundation
import XCTest

/// The fixture written by dev/make_nf4_goldens.py from bitsandbytes' NF4 quantizer
/// (`quantize_4bit(..., blocksize=64, quant_type="nf4", compress_statistics=True)`).
struct NF4GoldenFixture {
    struct Case {
        let rows: Int
        let columns: Int
        let weights: [Float]
        /// bitsandbytes' packed 4-bit codes (equal to the exact transcription's, checked by the script).
        let packed: [UInt8]
        /// Block absmax before double quantization.
        let absmax: [Float]
        /// bitsandbytes' double-quantized state and its `dequantize_4bit` output.
        let bnbScaleCodes: [UInt8], bnbGroupScales: [Float], bnbOffset: Float, bnbDecoded: [Float]
        /// The exact nearest-entry double quantization of the script's transcription.
        let specScaleCodes: [UInt8], specGroupScales: [Float], specOffset: Float
    }

    let source: String
    let levels: [Float]
    let dynamicMap: [Float]
    let cases: [Case]

    static func load() throws -> NF4GoldenFixture {
        guard let url = Bundle.module.url(forResource: "nf4_goldens", withExtension: "json", subdirectory: "Fixtures") else {
            throw XCTSkip("fixture nf4_goldens.json missing from the test bundle")
        }
        guard let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any],
              let cases = json["cases"] as? [[String: Any]] else {
            throw XCTSkip("fixture nf4_goldens.json is not the expected JSON object")
        }
        func bytes(_ d: [String: Any], _ key: String) throws -> [UInt8] {
            guard let s = d[key] as? String, let data = Data(base64Encoded: s) else {
                throw XCTSkip("nf4_goldens.json: key \(key) missing or not base64")
            }
            return [UInt8](data)
        }
        func floats(_ d: [String: Any], _ key: String) throws -> [Float] {
            try bytes(d, key).withUnsafeBytes { raw in (0..<(raw.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        }
        let parsed = try cases.map { c in
            Case(rows: c["rows"] as? Int ?? 0, columns: c["columns"] as? Int ?? 0, weights: try floats(c, "weights_f32"),
                 packed: try bytes(c, "packed"), absmax: try floats(c, "absmax_f32"),
                 bnbScaleCodes: try bytes(c, "bnb_scale_codes"), bnbGroupScales: try floats(c, "bnb_group_scales_f32"),
                 bnbOffset: try floats(c, "bnb_offset_f32")[0], bnbDecoded: try floats(c, "bnb_decoded_f32"),
                 specScaleCodes: try bytes(c, "spec_scale_codes"), specGroupScales: try floats(c, "spec_group_scales_f32"),
                 specOffset: try floats(c, "spec_offset_f32")[0])
        }
        return NF4GoldenFixture(source: json["source"] as? String ?? "?", levels: try floats(json, "nf4_levels_f32"),
                                dynamicMap: try floats(json, "dynamic_map_f32"), cases: parsed)
    }
}
