// Int8 rows with one float scale per row (layout in include/CQuantFrozenKernels.h): decoding is
// (float)q * scale, bit-identical between the scalar and AVX2 versions.
#include "Internal.h"

#pragma STDC FP_CONTRACT OFF

// MARK: scalar

static void i8_dequantize_scalar(const int8_t *q, int64_t stride, const float *scales, int64_t rows, int64_t n,
                                 float *dst, int64_t dst_stride) {
    for (int64_t r = 0; r < rows; r++) {
        const int8_t *row = q + r * stride;
        float *y = dst + r * dst_stride;
        const float d = scales[r];
        for (int64_t j = 0; j < n; j++) y[j] = (float)row[j] * d;
    }
}

static void i8_gemv_scalar(const int8_t *q, int64_t stride, const float *scales, int64_t rows, int64_t n,
                           const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const int8_t *row = q + r * stride;
        float sum = 0.0f;
        for (int64_t j = 0; j < n; j++) sum += (float)row[j] * x[j];
        y[r] = sum * scales[r];
    }
}

// MARK: AVX2

#if FQ_X86
FQ_AVX2 static inline __m256 i8x8(const int8_t *p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

FQ_AVX2 static void i8_dequantize_avx2(const int8_t *q, int64_t stride, const float *scales, int64_t rows, int64_t n,
                                       float *dst, int64_t dst_stride) {
    for (int64_t r = 0; r < rows; r++) {
        const int8_t *row = q + r * stride;
        float *y = dst + r * dst_stride;
        const float d = scales[r];
        const __m256 dv = _mm256_set1_ps(d);
        int64_t j = 0;
        for (; j + 16 <= n; j += 16) {
            _mm256_storeu_ps(y + j, _mm256_mul_ps(i8x8(row + j), dv));
            _mm256_storeu_ps(y + j + 8, _mm256_mul_ps(i8x8(row + j + 8), dv));
        }
        for (; j < n; j++) y[j] = (float)row[j] * d;
    }
}

FQ_AVX2 static void i8_gemv_avx2(const int8_t *q, int64_t stride, const float *scales, int64_t rows, int64_t n,
                                 const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const int8_t *row = q + r * stride;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        int64_t j = 0;
        for (; j + 32 <= n; j += 32) {
            s0 = _mm256_fmadd_ps(i8x8(row + j), _mm256_loadu_ps(x + j), s0);
            s1 = _mm256_fmadd_ps(i8x8(row + j + 8), _mm256_loadu_ps(x + j + 8), s1);
            s2 = _mm256_fmadd_ps(i8x8(row + j + 16), _mm256_loadu_ps(x + j + 16), s2);
            s3 = _mm256_fmadd_ps(i8x8(row + j + 24), _mm256_loadu_ps(x + j + 24), s3);
        }
        for (; j + 8 <= n; j += 8) s0 = _mm256_fmadd_ps(i8x8(row + j), _mm256_loadu_ps(x + j), s0);
        float sum = fq_hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
        for (; j < n; j++) sum += (float)row[j] * x[j];
        y[r] = sum * scales[r];
    }
}
#define I8_DISPATCH(name, ...) do { if (isa == FQ_ISA_AVX2) { name##_avx2(__VA_ARGS__); return; } name##_scalar(__VA_ARGS__); } while (0)
#else
#define I8_DISPATCH(name, ...) do { (void)isa; name##_scalar(__VA_ARGS__); } while (0)
#endif

void fq_dequantize_i8_rows(const int8_t *q, int64_t row_stride, const float *scales, int64_t rows, int64_t n,
                           float *dst, int64_t dst_stride, int isa) {
    I8_DISPATCH(i8_dequantize, q, row_stride, scales, rows, n, dst, dst_stride);
}

void fq_gemv_i8_f32(const int8_t *q, int64_t row_stride, const float *scales, int64_t rows, int64_t n,
                    const float *x, float *y, int isa) {
    I8_DISPATCH(i8_gemv, q, row_stride, scales, rows, n, x, y);
}
