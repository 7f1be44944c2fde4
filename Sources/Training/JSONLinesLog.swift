import Foundation

/// An append-only JSON-lines log (one object per line), as written next to checkpoints.
public final class JSONLinesLog: @unchecked Sendable {
    public let path: String
    let handle: FileHandle

    /// Opens (creating) the log. `keepingStepsUpTo` drops lines whose "step" is greater, so a resumed
    /// run continues the log of its checkpoint rather than duplicating steps.
    public init(path: String, keepingStepsUpTo maxStep: Int? = nil) throws {
        self.path = path
        let fm = FileManager.default
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if let maxStep, let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let kept = existing.split(separator: "\n").filter { line in
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let step = (obj["step"] as? NSNumber)?.intValue else { return true }
                return step <= maxStep
            }
            try (kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        } else if maxStep == nil {
            fm.createFile(atPath: path, contents: nil)
        }
        if !fm.fileExists(atPath: path) { fm.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw TrainingError.checkpoint(path: path, reason: "cannot open log for writing")
        }
        handle = h
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    public func write(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle.write(data)
        handle.write(Data([0x0A]))
    }

    /// Reads every object of a JSON-lines file (skipping malformed lines).
    public static func read(path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}
