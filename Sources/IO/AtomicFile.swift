import Foundation

/// Writes files so that readers never see a half-written result: the bytes go to a temporary file
/// in the destination's folder, are flushed, and the temporary file is renamed over the destination.
public enum AtomicFile {
    /// Writes `data` to `path` atomically, creating the parent folder when needed.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { handle in try handle.write(contentsOf: data) }
    }

    /// Streams content through `body` into a temporary file, then renames it to `path`.
    /// On any thrown error the temporary file is removed and `path` is left as it was.
    public static func write(to path: String, _ body: (FileHandle) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw IOError.writeFailed(path: path, reason: "cannot create folder \(dir.path): \(error.localizedDescription)")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
            throw IOError.writeFailed(path: path, reason: "cannot create temporary file \(tmp.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: tmp)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            if rename(tmp.path, path) != 0 {
                throw IOError.writeFailed(path: path, reason: "rename from temporary file failed: \(String(cString: strerror(errno)))")
            }
        } catch let e as IOError {
            try? FileManager.default.removeItem(at: tmp)
            throw e
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw IOError.writeFailed(path: path, reason: error.localizedDescription)
        }
    }
}
