import Synchronization
import Tensor

/// Reusable buffers of the int16 products (`TileDecodedMatrix+BlockInt16`): the quantized operand's
/// codes and scales and the packed weight's codes and scales, grown to the largest product seen and
/// kept (a few MB for SmolLM2-sized layers), so that these, the large buffers of a product, are not
/// allocated, zeroed and faulted in again by each of the hundreds of products of a training step (the
/// per-thread float tile a weight tile is decoded into still is, as on the float32 path). One product at a time holds the shared workspace; a
/// product that finds it taken (another thread) uses buffers of its own.
final class BlockInt16Workspace: @unchecked Sendable {
    static let shared = BlockInt16Workspace()

    private let taken = Atomic<Bool>(false)
    private(set) var operandCodes = AlignedBuffer<Int16>(count: 0)
    private(set) var operandScales = AlignedBuffer<Float>(count: 0)
    private(set) var weightCodes = AlignedBuffer<Int16>(count: 0)
    private(set) var weightScales = AlignedBuffer<Float>(count: 0)

    /// Grows the buffers to at least these counts (contents are not kept).
    func reserve(operandCodes a: Int, operandScales sa: Int, weightCodes b: Int, weightScales sb: Int) {
        if operandCodes.count < a { operandCodes = AlignedBuffer(count: a) }
        if operandScales.count < sa { operandScales = AlignedBuffer(count: sa) }
        if weightCodes.count < b { weightCodes = AlignedBuffer(count: b) }
        if weightScales.count < sb { weightScales = AlignedBuffer(count: sb) }
    }

    /// Runs `body` with the shared workspace (or a private one when it is taken), reserved to these counts.
    static func withBuffers<R>(operandCodes a: Int, operandScales sa: Int, weightCodes b: Int, weightScales sb: Int,
                               _ body: (BlockInt16Workspace) -> R) -> R {
        let space: BlockInt16Workspace
        let owned = shared.taken.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        space = owned ? shared : BlockInt16Workspace()
        defer { if owned { shared.taken.store(false, ordering: .releasing) } }
        space.reserve(operandCodes: a, operandScales: sa, weightCodes: b, weightScales: sb)
        return body(space)
    }
}
