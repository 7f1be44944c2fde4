/// What `BlockGridRequantizer` did to a tensor (or, summed, to a model).
public struct GridRequantizationStatistics: Equatable, Sendable {
    /// Blocks processed.
    public var blocks = 0
    /// Blocks with a value outside the base grid's range by more than half a step, re-quantized from
    /// scratch with the type's reference quantizer (new scale, and min for Q4_1).
    public var freshBlocks = 0
    /// Values in blocks that kept the base grid.
    public var gridValues = 0
    /// Of those, values whose code differs from the base block's code.
    public var changedCodes = 0

    public init() {}

    public static func += (lhs: inout GridRequantizationStatistics, rhs: GridRequantizationStatistics) {
        lhs.blocks += rhs.blocks
        lhs.freshBlocks += rhs.freshBlocks
        lhs.gridValues += rhs.gridValues
        lhs.changedCodes += rhs.changedCodes
    }
}
