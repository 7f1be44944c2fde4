// Quantized-block kernels for ggml block formats (Q4_0, Q4_1, Q8_0, F16, Q4_K, Q6_K).
//
// Every function takes an `isa` argument: FQ_ISA_SCALAR runs portable C, FQ_ISA_AVX2 runs the
// AVX2/FMA/F16C version (only pass it when fq_cpu_has_avx2() returned 1). Dequantization results
// are bit-identical between the two; dot products agree up to float summation order.
//
// Block layouts (little-endian, half floats are IEEE binary16):
//   Q4_0 18 bytes: d, qs[16]            value j = ((qs[j] & 15) - 8) * d, value j+16 = ((qs[j] >> 4) - 8) * d
//   Q4_1 20 bytes: d, m, qs[16]         value j = (qs[j] & 15) * d + m,   value j+16 = (qs[j] >> 4) * d + m
//   Q8_0 34 bytes: d, int8 qs[32]       value j = qs[j] * d
//   Q4_K 144 bytes per 256 values, Q6_K 210 bytes per 256 values: as llama.cpp's dequantize_row_q4_K / _q6_K.
//
// Quantized activations ("Q8 activations") are this library's own format for the integer dot
// products: per block of 32 values a float scale d = absmax / 127, int8 q = round-half-even(x / d),
// and s = d * sum(q) (used by Q4_1's min term).
#ifndef CQUANTKERNELS_H
#define CQUANTKERNELS_H

#include <stdint.h>
#include "CQuantFrozenKernels.h"
#include "CQuantBatchKernels.h"
#include "CBlockInt16Kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { FQ_ISA_SCALAR = 0, FQ_ISA_AVX2 = 1 };

/// 1 when the processor supports AVX2, FMA and F16C (checked at run time), else 0.
int fq_cpu_has_avx2(void);

/// IEEE binary16 bits to float (exact, including subnormals, infinities and NaN).
float fq_half_to_float(uint16_t h);

// MARK: dequantization of `nb` consecutive blocks to floats

void fq_dequantize_q4_0(const uint8_t *src, float *dst, int64_t nb, int isa);
void fq_dequantize_q4_1(const uint8_t *src, float *dst, int64_t nb, int isa);
void fq_dequantize_q8_0(const uint8_t *src, float *dst, int64_t nb, int isa);
void fq_dequantize_q4_k(const uint8_t *src, float *dst, int64_t nb, int isa);
void fq_dequantize_q6_k(const uint8_t *src, float *dst, int64_t nb, int isa);
/// `n` half floats (not blocks) to floats.
void fq_dequantize_f16(const uint16_t *src, float *dst, int64_t n, int isa);

// MARK: activations

/// Quantizes `nb` blocks of 32 floats to Q8 activations (q[32 * nb], d[nb], s[nb]).
void fq_quantize_q8_activations(const float *x, int64_t nb, int8_t *q, float *d, float *s, int isa);

// MARK: matrix-vector products y[r] = dot(W row r, x) for `rows` rows of `nb` blocks,
// rows `row_stride` bytes apart.

void fq_gemv_q4_0_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb,
                     const int8_t *xq, const float *xd, const float *xs, float *y, int isa);
void fq_gemv_q4_1_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb,
                     const int8_t *xq, const float *xd, const float *xs, float *y, int isa);
void fq_gemv_q8_0_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb,
                     const int8_t *xq, const float *xd, const float *xs, float *y, int isa);

void fq_gemv_q4_0_f32(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const float *x, float *y, int isa);
void fq_gemv_q4_1_f32(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const float *x, float *y, int isa);
void fq_gemv_q8_0_f32(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const float *x, float *y, int isa);
/// F16 rows of `n` values (row_stride in bytes).
void fq_gemv_f16_f32(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t n, const float *x, float *y, int isa);

#ifdef __cplusplus
}
#endif

#endif
