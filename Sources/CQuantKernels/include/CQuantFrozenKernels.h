// Kernels for the frozen-weight formats of QLoRA finetuning that are not ggml block types:
// NF4 (QLoRA's 4-bit NormalFloat with double-quantized block scales) and int8 rows with one float
// scale per row. Same conventions as CQuantKernels.h: `isa` is FQ_ISA_SCALAR or FQ_ISA_AVX2, and
// the scalar and AVX2 dequantizations are bit-identical (multiply and add without fusing).
//
// NF4 layout: a matrix [rows, columns] (columns a multiple of 64) is a row-major run of blocks of 64
// values; block b takes 32 bytes at packed + 32 * b, value 2k in the high nibble of byte k and value
// 2k + 1 in the low nibble. Each 4-bit code indexes `levels` (the 16 NF4 levels). Block b's scale is
//     scale[b] = map[scale_codes[b]] * group_scales[b / 256] + offset
// (float32 multiply, then add) and its values are levels[code] * scale[b].
//
// Int8-row layout: row r is `row_stride` bytes of int8 codes; value (r, j) = q[r, j] * scales[r].
#ifndef CQUANTFROZENKERNELS_H
#define CQUANTFROZENKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The double-quantized block scales of an NF4 matrix and its 16 levels.
typedef struct fq_nf4_state {
    const uint8_t *packed;       // 32 bytes per block, blocks in row-major order
    const uint8_t *scale_codes;  // one 8-bit code per block
    const float *map;            // 256 entries indexed by scale codes
    const float *group_scales;   // one per 256 consecutive blocks
    const float *levels;         // the 16 NF4 levels
    float offset;                // added to every decoded block scale
} fq_nf4_state;

/// Decodes blocks first_block ..< first_block + nb (64 values each) to dst.
void fq_dequantize_nf4(const fq_nf4_state *state, int64_t first_block, int64_t nb, float *dst, int isa);

/// y[r] = dot(row r, x) for r in first_row ..< first_row + rows of a matrix with `blocks_per_row`
/// blocks per row (y is indexed by absolute row).
void fq_gemv_nf4_f32(const fq_nf4_state *state, int64_t blocks_per_row, int64_t first_row, int64_t rows,
                     const float *x, float *y, int isa);

/// Decodes `rows` rows of `n` int8 codes (rows `row_stride` bytes apart, row i scaled by scales[i])
/// to dst (rows `dst_stride` floats apart).
void fq_dequantize_i8_rows(const int8_t *q, int64_t row_stride, const float *scales, int64_t rows, int64_t n,
                           float *dst, int64_t dst_stride, int isa);

/// y[i] = scales[i] * dot(int8 row i, x) for `rows` rows of `n` codes, rows `row_stride` bytes apart.
void fq_gemv_i8_f32(const int8_t *q, int64_t row_stride, const float *scales, int64_t rows, int64_t n,
                    const float *x, float *y, int isa);

#ifdef __cplusplus
}
#endif

#endif
