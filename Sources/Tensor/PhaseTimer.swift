import Dispatch

/// Accumulates wall time per named phase (for per-layer profiles in benchmarks). Not thread-safe:
/// time phases from the thread that drives the model.
public final class PhaseTimer: @unchecked Sendable {
    public private(set) var seconds: [String: Double] = [:]
    public private(set) var order: [String] = []

    public init() {}

    @inline(__always)
    public func measure<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer {
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if seconds[name] == nil { order.append(name) }
            seconds[name, default: 0] += dt
        }
        return try body()
    }

    public func reset() { seconds = [:]; order = [] }

    public var total: Double { seconds.values.reduce(0, +) }

    /// A table of phases with seconds and share of the total.
    public func report(divideBy steps: Int = 1) -> String {
        let t = max(total, 1e-12)
        return order.map { name in
            let s = seconds[name]!
            return name.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: "%9.1f ms %6.1f%%", 1000 * s / Double(steps), 100 * s / t)
        }.joined(separator: "\n")
    }
}
