/// Row-level encode/decode for every ggml type, dispatching to the per-format codecs.
///
/// The pointer-based functions take `count` values (a multiple of `blockSize`) and trap otherwise;
/// the array-based `dequantize` / `quantize` validate their input and throw `QuantizationError`.
extension GGMLType {
    /// Decodes `count` values with the plain scalar reference implementation.
    public func dequantizeRowReference(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .f32, .f16, .bf16: FloatCodec.dequantizeRowReference(self, src, dst, count: count)
        case .q4_0: Q4_0Codec.dequantizeRowReference(src, dst, count: count)
        case .q4_1: Q4_1Codec.dequantizeRowReference(src, dst, count: count)
        case .q5_0: Q5_0Codec.dequantizeRowReference(src, dst, count: count)
        case .q5_1: Q5_1Codec.dequantizeRowReference(src, dst, count: count)
        case .q8_0: Q8_0Codec.dequantizeRowReference(src, dst, count: count)
        case .q4_K: Q4_KCodec.dequantizeRowReference(src, dst, count: count)
        case .q6_K: Q6_KCodec.dequantizeRowReference(src, dst, count: count)
        }
    }

    /// Decodes `count` values with the fastest implementation (bit-identical to the reference;
    /// Q5_0 and Q5_1 use the reference).
    public func dequantizeRow(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int, isa: KernelISA = .best) {
        switch self {
        case .f32, .f16, .bf16: FloatCodec.dequantizeRow(self, src, dst, count: count, isa: isa)
        case .q4_0: Q4_0Codec.dequantizeRow(src, dst, count: count, isa: isa)
        case .q4_1: Q4_1Codec.dequantizeRow(src, dst, count: count, isa: isa)
        case .q5_0: Q5_0Codec.dequantizeRowReference(src, dst, count: count)
        case .q5_1: Q5_1Codec.dequantizeRowReference(src, dst, count: count)
        case .q8_0: Q8_0Codec.dequantizeRow(src, dst, count: count, isa: isa)
        case .q4_K: Q4_KCodec.dequantizeRow(src, dst, count: count, isa: isa)
        case .q6_K: Q6_KCodec.dequantizeRow(src, dst, count: count, isa: isa)
        }
    }

    /// Whether floats can be encoded as this type (all but the K-quants).
    public var canQuantize: Bool { self != .q4_K && self != .q6_K }

    /// Encodes `count` floats with llama.cpp's reference quantizer for this type (bit-exact).
    /// Throws `cannotQuantize` for Q4_K and Q6_K.
    public func quantizeRowReference(_ src: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, count: Int) throws {
        switch self {
        case .f32, .f16, .bf16: FloatCodec.quantizeRowReference(self, src, dst, count: count)
        case .q4_0: Q4_0Codec.quantizeRowReference(src, dst, count: count)
        case .q4_1: Q4_1Codec.quantizeRowReference(src, dst, count: count)
        case .q5_0: Q5_0Codec.quantizeRowReference(src, dst, count: count)
        case .q5_1: Q5_1Codec.quantizeRowReference(src, dst, count: count)
        case .q8_0: Q8_0Codec.quantizeRowReference(src, dst, count: count)
        case .q4_K, .q6_K: throw QuantizationError.cannotQuantize(type: self)
        }
    }

    /// Checks that `count` values fill whole blocks and returns their byte size.
    public func checkedByteCount(elements count: Int) throws -> Int {
        guard count >= 0, let bytes = byteCount(elements: count) else {
            throw QuantizationError.notBlockMultiple(type: self, count: count)
        }
        return bytes
    }

    /// Decodes `count` values from `bytes`, which must hold exactly their encoding.
    public func dequantize(_ bytes: UnsafeRawBufferPointer, count: Int, reference: Bool = false) throws -> [Float] {
        let expected = try checkedByteCount(elements: count)
        guard bytes.count == expected else {
            throw QuantizationError.byteCountMismatch(type: self, elements: count, expected: expected, actual: bytes.count)
        }
        if count == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            if reference {
                dequantizeRowReference(bytes.baseAddress!, into: out.baseAddress!, count: count)
            } else {
                dequantizeRow(bytes.baseAddress!, into: out.baseAddress!, count: count)
            }
            initialized = count
        }
    }

    /// Decodes the bytes of `data` (exactly the encoding of `count` values).
    public func dequantize(_ data: [UInt8], count: Int, reference: Bool = false) throws -> [Float] {
        try data.withUnsafeBytes { try dequantize($0, count: count, reference: reference) }
    }

    /// Encodes floats with the reference quantizer; the count must fill whole blocks.
    public func quantize(_ values: UnsafeBufferPointer<Float>) throws -> [UInt8] {
        let bytes = try checkedByteCount(elements: values.count)
        guard canQuantize else { throw QuantizationError.cannotQuantize(type: self) }
        if values.isEmpty { return [] }
        var out = [UInt8](repeating: 0, count: bytes)
        try out.withUnsafeMutableBytes { try quantizeRowReference(values.baseAddress!, into: $0.baseAddress!, count: values.count) }
        return out
    }

    /// Encodes floats with the reference quantizer; the count must fill whole blocks.
    public func quantize(_ values: [Float]) throws -> [UInt8] {
        try values.withUnsafeBufferPointer { try quantize($0) }
    }
}

extension GGMLType {
    /// Whether matrix-vector products with this weight type can use 8-bit activations
    /// (`GEMVActivations.int8`): Q4_0, Q4_1 and Q8_0.
    public var hasIntegerKernel: Bool { self == .q4_0 || self == .q4_1 || self == .q8_0 }
}
