/// One base block's grid: its scale, min (Q4_1) and code range, and access to its codes.
struct BlockGrid {
    let type: GGMLType
    let d: Float
    let m: Float
    let lowest: Int
    let highest: Int

    init(type: GGMLType, block: UnsafeRawPointer) {
        self.type = type
        d = BlockFields.half(block, 0)
        m = type == .q4_1 ? BlockFields.half(block, 2) : 0
        (lowest, highest) = type == .q8_0 ? (-128, 127) : (0, 15)
    }

    /// Byte offset of the codes in a block.
    var codeOffset: Int { type == .q4_1 ? 4 : 2 }

    @inline(__always)
    func value(_ q: Int) -> Float { BlockGridRequantizer.gridValue(type: type, code: q, scale: d, min: m) }

    /// Code j (0..<32) of `block`.
    @inline(__always)
    func code(_ block: UnsafeRawPointer, _ j: Int) -> Int {
        if type == .q8_0 { return Int(block.load(fromByteOffset: codeOffset + j, as: Int8.self)) }
        let byte = BlockFields.byte(block, codeOffset + j % 16)
        return Int(j < 16 ? byte & 0x0F : byte >> 4)
    }

    /// The code for `x` on this grid, or nil when the block must be re-quantized from scratch.
    @inline(__always)
    func code(for x: Float, baseCode: Int, rounding: GridRounding, stream: UInt64, index: UInt64) -> Int? {
        if x == value(baseCode) { return baseCode }
        guard x.isFinite, d != 0, d.isFinite, m.isFinite else { return nil }
        // a first guess from the scale, then the bracket [f, f + 1] of decoded values holding x
        let xd = Double(x), guess: Double
        switch type {
        case .q4_1: guess = (xd - Double(m)) / Double(d)
        case .q4_0: guess = xd / Double(d) + 8
        default: guess = xd / Double(d)
        }
        var f = Int(Swift.max(Double(lowest), Swift.min(Double(highest - 1), guess.rounded(.down))))
        var p = 0.0
        for _ in 0..<4 {
            let a = Double(value(f)), b = Double(value(f + 1))
            p = (xd - a) / (b - a) // position of x from grid point f (0) to f + 1 (1), for either sign of d
            if p < 0, f > lowest { f -= 1 } else if p > 1, f < highest - 1 { f += 1 } else { break }
        }
        guard p >= -0.5, p <= 1.5 else { return nil } // more than half a step beyond the grid's ends
        switch rounding {
        case .nearest:
            return p < 0.5 ? f : f + 1
        case .stochastic(let seed):
            return GridRounding.uniform(seed: seed, stream: stream, index: index) < p ? f + 1 : f
        }
    }

    /// Writes a block with `header`'s scale (and min) and the given codes.
    func write(_ codes: [Int], header: UnsafeRawPointer, into block: UnsafeMutableRawPointer) {
        block.copyMemory(from: header, byteCount: codeOffset)
        if type == .q8_0 {
            for j in 0..<32 { block.storeBytes(of: Int8(codes[j]), toByteOffset: codeOffset + j, as: Int8.self) }
        } else {
            for j in 0..<16 { block.storeBytes(of: UInt8(codes[j] | (codes[j + 16] << 4)), toByteOffset: codeOffset + j, as: UInt8.self) }
        }
    }
}
