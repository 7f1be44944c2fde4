// Block-scaled 16-bit integer matrix products for frozen weights (an alternative to decoding tiles to
// float32 and calling sgemm). Both operands are quantized in groups of FQ_I16_GROUP consecutive values
// along the contraction dimension k, each group with its own float scale:
//     a[m, k] ~ qa[m, k] * sa[m, k / 64],  |qa| <= FQ_I16_A_MAX (14 bits: activations, gradients)
//     b[n, k] ~ qb[n, k] * sb[n, k / 64],  |qb| <= FQ_I16_B_MAX (13 bits: decoded 4- or 8-bit weights)
//     c[m, n] = beta * c[m, n] + sum_g sa[m, g] * sb[n, g] * sum_{k in g} qa[m, k] qb[n, k]
// The inner sums are exact in int32 (64 * 8191 * 4095 < 2^31); each group's sum is converted to float
// and accumulated in float32. Quantization rounds to nearest (ties to even) with scale = absmax / max.
// `isa` is FQ_ISA_SCALAR or FQ_ISA_AVX2 (see CQuantKernels.h); both give identical integers, and
// identical floats except for the order of the float accumulation, which they share.
//
// Layouts:
//   A: int16 row-major [m_padded, k] (row stride k), m_padded = m rounded up to FQ_I16_MR (padding rows
//      zero); scales [m_padded, k / 64].
//   B: panels of FQ_I16_NR = 16 output columns: panel p holds, for each pair j of k values, the 16
//      columns' (qb[n, 2j], qb[n, 2j + 1]) as 32 int16 (panel stride 16 * k int16); columns past n are
//      zero. Scales: panel p, group g at sb[(p * groups + g) * 16 + column].
#ifndef CBLOCKINT16KERNELS_H
#define CBLOCKINT16KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { FQ_I16_GROUP = 64, FQ_I16_MR = 6, FQ_I16_NR = 16, FQ_I16_A_MAX = 8191, FQ_I16_B_MAX = 4095 };

/// Quantizes rows [row_begin, row_end) of x [*, k] (row stride ldx floats; k a multiple of 64) into
/// qa (row stride k) and sa (row stride k / 64), using FQ_I16_A_MAX.
void fq_i16_quantize_rows(const float *x, int64_t ldx, int64_t k, int64_t row_begin, int64_t row_end,
                          int16_t *qa, float *sa, int isa);

/// Packs B from a float matrix whose ROWS are the output columns: w [n, k] (row stride ldw), into
/// panels first_panel ..< first_panel + ceil(n / 16) of (qb, sb), using FQ_I16_B_MAX.
void fq_i16_pack_rows(const float *w, int64_t ldw, int64_t n, int64_t k, int64_t first_panel,
                      int16_t *qb, float *sb, int isa);

/// Packs B from a float matrix whose COLUMNS are the output columns: w [k, n] (row stride ldw; the
/// contraction runs over its rows), into panels first_panel ..< first_panel + ceil(n / 16).
void fq_i16_pack_columns(const float *w, int64_t ldw, int64_t k, int64_t n, int64_t first_panel,
                         int16_t *qb, float *sb, int isa);

/// c[m, n] = beta * c + A B^T for rows [row_begin, row_end) of A (row_begin a multiple of FQ_I16_MR)
/// and all n columns; c has row stride ldc. beta is 0 (c is overwritten, never read) or 1.
void fq_i16_gemm(const int16_t *qa, const float *sa, int64_t row_begin, int64_t row_end,
                 const int16_t *qb, const float *sb, int64_t n, int64_t k,
                 float *c, int64_t ldc, float beta, int isa);

#ifdef __cplusplus
}
#endif

#endif
