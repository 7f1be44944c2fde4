import Foundation

/// A one-line progress report with rate and ETA, rewritten in place on a terminal and printed as
/// plain lines otherwise (logs, CI).
public struct ProgressLine {
    public let total: Int
    public let unit: String
    let start: Date
    let isTerminal: Bool
    public var enabled: Bool

    public init(total: Int, unit: String = "steps", enabled: Bool = true) {
        self.total = total
        self.unit = unit
        self.start = Date()
        self.isTerminal = isatty(fileno(stderr)) != 0
        self.enabled = enabled
    }

    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }

    /// Prints `done/total`, the rate since `startDone`, the ETA, and `detail`.
    public func update(done: Int, startDone: Int = 0, detail: String) {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done - startDone) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : .infinity
        let line = String(format: "[%d/%d %5.1f%%] %@ | %.2f %@/s | elapsed %@ | ETA %@",
                          done, total, 100 * Double(done) / Double(max(total, 1)), detail, rate, unit,
                          ProgressLine.formatDuration(elapsed), ProgressLine.formatDuration(eta))
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + (isTerminal && done < total ? "" : "\n")).utf8))
    }
}
