/// Element-wise scaling of float buffers (the 1/size step of a mean all-reduce).
enum FloatScaling {
    /// Multiplies every element of `buffer` by `factor` in place.
    static func scale(_ buffer: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        guard let base = buffer.baseAddress else { return }
        for i in 0..<buffer.count { base[i] *= factor }
    }
}
