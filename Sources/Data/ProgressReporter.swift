import Foundation

/// One progress observation of a long-running step.
public struct ProgressUpdate: Sendable, Equatable {
    /// What is being done, e.g. "tokenizing".
    public var phase: String
    /// Units done so far (bytes for tokenizing).
    public var done: Int
    /// Total units.
    public var total: Int
    /// Seconds since the step started.
    public var elapsed: Double
    /// Whether this is the final update of the step.
    public var finished: Bool

    public init(phase: String, done: Int, total: Int, elapsed: Double, finished: Bool) {
        self.phase = phase; self.done = done; self.total = total; self.elapsed = elapsed; self.finished = finished
    }

    /// Throughput in MB/s (10^6 bytes), 0 before any time has passed.
    public var megabytesPerSecond: Double { elapsed > 0 ? Double(done) / 1e6 / elapsed : 0 }

    /// Estimated seconds remaining at the current rate (nil before any progress).
    public var etaSeconds: Double? {
        guard done > 0, elapsed > 0 else { return nil }
        return Double(total - done) / (Double(done) / elapsed)
    }

    /// A one-line human-readable summary, e.g.
    /// "tokenizing 12.3/62.1 MB (19.8%) 5.2 MB/s ETA 9.6s".
    public var line: String {
        let pct = total > 0 ? 100 * Double(done) / Double(total) : 100
        var s = String(format: "%@ %.1f/%.1f MB (%.1f%%) %.1f MB/s", phase, Double(done) / 1e6, Double(total) / 1e6,
                       pct, megabytesPerSecond)
        if finished {
            s += String(format: " done in %.1fs", elapsed)
        } else if let eta = etaSeconds {
            s += String(format: " ETA %.1fs", eta)
        }
        return s
    }
}

/// Where progress goes: stderr for command-line use, nowhere for tests, or any closure.
public struct ProgressReporter: Sendable {
    /// Receives each update (called from worker threads, one at a time).
    public let report: @Sendable (ProgressUpdate) -> Void
    /// Minimum seconds between non-final updates.
    public let interval: Double

    public init(interval: Double = 1.0, report: @escaping @Sendable (ProgressUpdate) -> Void) {
        self.interval = interval
        self.report = report
    }

    /// Prints each update as a line on standard error.
    public static let stderr = ProgressReporter { update in
        FileHandle.standardError.write(Data((update.line + "\n").utf8))
    }

    /// Discards updates.
    public static let quiet = ProgressReporter { _ in }
}
