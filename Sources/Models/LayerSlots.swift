/// Per-layer items of an activation arena that covers only a contiguous range of layers (a pipeline
/// stage), indexed by the model's absolute layer number.
struct LayerSlots<Item> {
    /// The absolute index of `items[0]`.
    let first: Int
    let items: [Item]

    @inline(__always)
    subscript(layer: Int) -> Item { items[layer - first] }

    var count: Int { items.count }
}
