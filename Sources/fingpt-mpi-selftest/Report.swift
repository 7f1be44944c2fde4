import Foundation

/// Output of the self-test: one flushed line per fact, so that `mpirun` relays it even when a rank dies
/// right after. Lines start with RESULT (a checked outcome), EVENT (a timed event) or FAIL.
enum Report {
    static func line(_ text: String) {
        print(text)
        fflush(stdout)
    }

    /// Seconds since the Unix epoch, comparable between the ranks of one machine.
    static func wallClock() -> Double { Date().timeIntervalSince1970 }

    /// A stable text form of a double for checksums.
    static func number(_ value: Double) -> String { String(format: "%.6f", value) }
}
