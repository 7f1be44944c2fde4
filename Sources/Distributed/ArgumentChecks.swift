/// Validation of ranks, tags and colors shared by the communicator implementations.
enum ArgumentChecks {
    /// Throws unless `rank` names a process of a communicator of `size` ranks.
    static func rank(_ rank: Int, role: String, size: Int) throws {
        guard rank >= 0, rank < size else {
            throw CommunicatorError.invalidArgument("\(role) rank \(rank) is outside 0..<\(size)")
        }
    }

    /// Throws unless `tag` is in 0...maximum.
    static func tag(_ tag: Int, maximum: Int) throws {
        guard tag >= 0, tag <= maximum else {
            throw CommunicatorError.invalidArgument("tag \(tag) is outside 0...\(maximum)")
        }
    }

    /// Throws unless `color` is a usable split color (non-negative and fits in a C int).
    static func color(_ color: Int, key: Int) throws {
        guard color >= 0, color <= Int(Int32.max) else {
            throw CommunicatorError.invalidArgument("split color \(color) must be in 0...\(Int32.max)")
        }
        guard key >= Int(Int32.min), key <= Int(Int32.max) else {
            throw CommunicatorError.invalidArgument("split key \(key) does not fit in 32 bits")
        }
    }

    /// Throws unless `buffer` has a base address or is empty.
    static func buffer(_ count: Int, _ base: UnsafeRawPointer?, operation: String) throws {
        if count > 0 && base == nil {
            throw CommunicatorError.invalidArgument("\(operation): buffer of \(count) elements has no storage")
        }
    }
}
