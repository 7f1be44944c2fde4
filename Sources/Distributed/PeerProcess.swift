import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The operating-system identity of one MPI process, used to notice a peer that has exited.
///
/// MPI (Open MPI 4 without fault-tolerance extensions) reports nothing when a peer dies: a pending
/// receive or collective simply never completes. A peer on the same machine and in the same process
/// namespace can be checked directly; others are covered by the communicator's timeout.
struct PeerProcess: Equatable {
    /// Rank in MPI_COMM_WORLD.
    let worldRank: Int
    /// Process id on its host.
    let pid: Int32
    /// Hash of (host name, boot id, pid namespace): equal keys mean `pid` is meaningful here.
    let hostKey: UInt64

    /// The identity of this process.
    static func current(worldRank: Int) -> PeerProcess {
        PeerProcess(worldRank: worldRank, pid: getpid(), hostKey: localHostKey)
    }

    /// Whether this peer can be checked from here (same host, same boot, same pid namespace).
    var isLocal: Bool { hostKey == PeerProcess.localHostKey }

    /// True when the peer is local and its process no longer exists (or is a zombie); false when it is
    /// alive or cannot be checked from here.
    var hasExited: Bool {
        guard isLocal else { return false }
        if kill(pid, 0) != 0 { return errno == ESRCH }
        return PeerProcess.isZombie(pid)
    }

    /// The machine identity of this process; computed once.
    static let localHostKey: UInt64 = {
        var name = [CChar](repeating: 0, count: 256)
        _ = gethostname(&name, name.count - 1)
        let host = String(cString: name)
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? ""
        let namespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? ""
        return fnv1a64(host + "\u{0}" + boot + "\u{0}" + namespace)
    }()

    /// Reads the state letter of /proc/<pid>/stat (the field after the parenthesised command name).
    private static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let rest = stat[stat.index(after: close)...].drop(while: { $0 == " " })
        guard let state = rest.first else { return false }
        return state == "Z" || state == "X"
    }

    private static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
