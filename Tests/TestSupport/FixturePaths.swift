import Foundation

/// Locations of optional real data used by tests: the SmolLM2 GGUF and the shared corpus.
/// Tests that need them skip (with a one-line reason) when these return nil.
public enum FixturePaths {
    /// The repository root, derived from this source file's location.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The SmolLM2 GGUF: `$FINGPT_MODEL`, else `<repo>/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf`;
    /// nil when the file does not exist.
    public static var smolLM2Model: String? {
        if let env = ProcessInfo.processInfo.environment["FINGPT_MODEL"], !env.isEmpty {
            return FileManager.default.fileExists(atPath: env) ? env : nil
        }
        let path = repositoryRoot.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// The shared data folder: `$FINGPT_DATA`, else `<repo>/../shared/data`; nil when absent.
    public static var sharedData: String? {
        if let env = ProcessInfo.processInfo.environment["FINGPT_DATA"], !env.isEmpty {
            return FileManager.default.fileExists(atPath: env) ? env : nil
        }
        let path = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// The real pretraining corpus, if present.
    public static var financeCorpus: String? {
        guard let data = sharedData else { return nil }
        let path = (data as NSString).appendingPathComponent("corpus/fin_corpus_train.txt")
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// A fresh empty temporary directory for one test.
    public static func makeTemporaryDirectory(_ label: String = "fingpt-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
