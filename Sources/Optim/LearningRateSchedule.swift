import Foundation

/// Linear warmup from 0 to `maxLR` over `warmupSteps`, then cosine decay to `minLR` at `totalSteps`.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public var maxLR: Float
    public var minLR: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(maxLR: Float, minLR: Float, warmupSteps: Int, totalSteps: Int) {
        self.maxLR = maxLR; self.minLR = minLR; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    /// Learning rate for optimizer step `step` (0-based).
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return maxLR * Float(step + 1) / Float(warmupSteps) }
        if step >= totalSteps { return minLR }
        let span = max(1, totalSteps - warmupSteps)
        let progress = Double(step - warmupSteps) / Double(span)
        let coeff = 0.5 * (1 + Foundation.cos(Double.pi * progress))
        return minLR + Float(coeff) * (maxLR - minLR)
    }
}
