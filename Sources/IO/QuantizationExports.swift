// GGUF tensor infos carry a `GGMLType`, which lives in the Quantization module (with the block
// codecs and quantized matrices). Re-export it so `import IO` keeps providing `GGMLType`,
// `QuantizedMatrix` and the codecs, as before the type moved.
@_exported import Quantization
