import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only view of a whole file's bytes, memory-mapped when possible.
///
/// When `mmap` is unavailable or fails (some file systems, special files) the file is read into
/// owned memory instead; callers see the same `bytes` either way. The mapping lives as long as the
/// object, so keep a reference while using pointers derived from `bytes`.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened with.
    public let path: String
    /// The file's bytes (read-only).
    public let bytes: UnsafeRawBufferPointer
    /// Whether `bytes` is an `mmap` of the file (false when it was read into memory).
    public let isMemoryMapped: Bool

    /// The file's size in bytes.
    public var count: Int { bytes.count }

    /// Opens and maps `path`; throws `IOError.fileNotFound` or `IOError.unreadable` with the reason.
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw IOError.fileNotFound(path: path)
        }
        if isDirectory.boolValue { throw IOError.unreadable(path: path, reason: "is a directory") }

        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw IOError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw IOError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let size = Int(info.st_size)
        // Map regular non-empty files; empty and special files (size 0, e.g. /proc) are read instead.
        if size > 0, let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED {
            bytes = UnsafeRawBufferPointer(start: base, count: size)
            isMemoryMapped = true
            return
        }
        // Fallback: read the whole file into owned memory.
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw IOError.unreadable(path: path, reason: "mmap failed and reading failed: \(error.localizedDescription)")
        }
        let owned = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { src in owned.copyMemory(from: src) }
        bytes = UnsafeRawBufferPointer(start: owned.baseAddress, count: data.count)
        isMemoryMapped = false
    }

    /// Wraps a copy of in-memory bytes (for tests and for data that never touched the disk).
    public init(data: Data, name: String) {
        path = name
        let owned = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { src in
            if src.count > 0 { owned.copyMemory(from: src) }
        }
        bytes = UnsafeRawBufferPointer(start: owned.baseAddress, count: data.count)
        isMemoryMapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMemoryMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// Tells the kernel that bytes in `range` will not be read again soon, so their pages can leave
    /// the process's resident set (a read-only mapping re-reads them from the file if they are).
    /// Does nothing for files read into memory.
    public func releasePages(_ range: Range<Int>) {
        guard isMemoryMapped, let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page
        let end = min(range.upperBound, bytes.count) / page * page
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
    }
}
