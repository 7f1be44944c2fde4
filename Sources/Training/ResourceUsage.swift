import Foundation

/// Process memory figures from /proc (Linux) or getrusage elsewhere.
public enum ResourceUsage {
    /// Peak resident set size in bytes (VmHWM).
    public static func peakResidentBytes() -> Int {
        if let kb = statusField("VmHWM:") { return kb * 1024 }
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Int(usage.ru_maxrss) * 1024
    }

    /// Current resident set size in bytes (VmRSS).
    public static func residentBytes() -> Int { (statusField("VmRSS:") ?? 0) * 1024 }

    static func statusField(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.dropFirst(name.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }
}
