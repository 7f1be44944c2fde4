// Matrix-vector products of quantized weight rows with several Q8 activation vectors at once, for
// generation and scoring of several sequences per pass: the weights are read from memory once for
// all the vectors instead of once per vector, and each decoded weight block serves several vectors.
// Same conventions as CQuantKernels.h.
#ifndef CQUANTBATCHKERNELS_H
#define CQUANTBATCHKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// For v in 0 ..< vectors and r in 0 ..< rows: y[v * ldy + r] = dot(W row r, x_v), where vector v's
/// Q8 activations are xq + v * 32 * nb (values), xd + v * nb (scales) and xs + v * nb (sums), and W
/// has `rows` rows of `nb` blocks, `row_stride` bytes apart. xd_t and xs_t hold the same scales and
/// sums transposed: those of block b of vector v at b * ld_t + v (ld_t >= vectors).
///
/// Each y value is bit-for-bit the one fq_gemv_*_q8 computes for the same row range and vector with
/// the same `isa` (rows past the range's last whole group of four go through fq_gemv_*_q8).
void fq_gemm_q4_0_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const int8_t *xq, const float *xd,
                     const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t, int64_t vectors, float *y, int64_t ldy, int isa);
void fq_gemm_q4_1_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const int8_t *xq, const float *xd,
                     const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t, int64_t vectors, float *y, int64_t ldy, int isa);
void fq_gemm_q8_0_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const int8_t *xq, const float *xd,
                     const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t, int64_t vectors, float *y, int64_t ldy, int isa);

#ifdef __cplusplus
}
#endif

#endif
