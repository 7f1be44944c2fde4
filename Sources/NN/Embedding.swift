import Tensor

/// Token embedding plus (optional) learned position embedding, as GPT-2's encoder.
public enum Embedding {
    /// out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]
    /// - shapes: tokens [B,T], wte [V,C], wpe [maxT,C] or nil, out [B,T,C]
    public static func forward(out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                               wte: UnsafePointer<Float>, wpe: UnsafePointer<Float>?,
                               batch: Int, seq: Int, channels c: Int) {
        Parallel.forEachChunk(batch * seq, minPerThread: 64) { rows in
            for r in rows {
                let t = r % seq
                let o = out + r * c
                let e = wte + Int(tokens[r]) * c
                if let wpe {
                    Kernels.add(e, wpe + t * c, o, count: c)
                } else {
                    o.update(from: e, count: c)
                }
            }
        }
    }

    /// dwte[tokens[b,t],:] += dout[b,t,:]; dwpe[t,:] += dout[b,t,:]
    /// - shapes: dout [B,T,C], dwte [V,C], dwpe [maxT,C] or nil
    public static func backward(dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>?,
                                dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>,
                                batch: Int, seq: Int, channels c: Int) {
        // Sequential over rows: tokens may repeat, so parallel scatter would race.
        for r in 0..<(batch * seq) {
            Kernels.axpy(1, dout + r * c, dwte + Int(tokens[r]) * c, count: c)
        }
        if let dwpe {
            Parallel.forEachChunk(seq, minPerThread: 16) { ts in
                for t in ts {
                    for b in 0..<batch { Kernels.axpy(1, dout + (b * seq + t) * c, dwpe + t * c, count: c) }
                }
            }
        }
    }
}
