import Foundation

/// A fixed-size, 64-byte aligned, zero-initialised buffer of scalars that owns its memory.
///
/// Parameters, gradients, optimizer moments and activation arenas each live in one of these, with
/// named views (pointer + count) into it.
public final class AlignedBuffer<Element>: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Element>
    public static var alignment: Int { 64 }

    public init(count: Int) {
        precondition(count >= 0, "negative buffer size")
        self.count = count
        let bytes = max(1, count * MemoryLayout<Element>.stride)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
        memset(raw, 0, bytes)
        pointer = raw.bindMemory(to: Element.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Element> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var byteCount: Int { count * MemoryLayout<Element>.stride }

    public func zero() { memset(UnsafeMutableRawPointer(pointer), 0, byteCount) }

    public subscript(i: Int) -> Element {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}
