// Block dequantization, scalar and AVX2. Both compute each value with the same float operations
// (multiply, then add or subtract; no fused multiply-add), so their results are bit-identical to
// each other and to llama.cpp's dequantize_row_* and the gguf Python package.
#include "Internal.h"

#pragma STDC FP_CONTRACT OFF

// MARK: scalar

static void q4_0_scalar(const uint8_t *src, float *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 18 * i;
        const float d = fq_half(b);
        for (int j = 0; j < 16; j++) {
            const int x0 = (b[2 + j] & 0x0F) - 8;
            const int x1 = (b[2 + j] >> 4) - 8;
            dst[32 * i + j] = (float)x0 * d;
            dst[32 * i + j + 16] = (float)x1 * d;
        }
    }
}

static void q4_1_scalar(const uint8_t *src, float *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 20 * i;
        const float d = fq_half(b), m = fq_half(b + 2);
        for (int j = 0; j < 16; j++) {
            dst[32 * i + j] = (float)(b[4 + j] & 0x0F) * d + m;
            dst[32 * i + j + 16] = (float)(b[4 + j] >> 4) * d + m;
        }
    }
}

static void q8_0_scalar(const uint8_t *src, float *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 34 * i;
        const float d = fq_half(b);
        for (int j = 0; j < 32; j++) dst[32 * i + j] = (float)(int8_t)b[2 + j] * d;
    }
}

/// The j-th 6-bit scale and min of a Q4_K super-block (llama.cpp's get_scale_min_k4).
static inline void q4_k_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static void q4_k_scalar(const uint8_t *src, float *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 144 * i;
        const float d = fq_half(b), dmin = fq_half(b + 2);
        const uint8_t *scales = b + 4, *q = b + 16;
        float *y = dst + 256 * i;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
            uint8_t sc, m;
            q4_k_scale_min(is, scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            q4_k_scale_min(is + 1, scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0x0F) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

static void q6_k_scalar(const uint8_t *src, float *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 210 * i;
        const float d = fq_half(b + 208);
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        float *y = dst + 256 * i;
        for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int8_t)((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int8_t)((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * (float)sc[is] * (float)q1;
                y[l + 32] = d * (float)sc[is + 2] * (float)q2;
                y[l + 64] = d * (float)sc[is + 4] * (float)q3;
                y[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}

static void f16_scalar(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = fq_half_to_float(src[i]);
}

// MARK: AVX2

#if FQ_X86
/// Widens 8 bytes of `v` (low half) to 8 int32 lanes, converts to float.
FQ_AVX2 static inline __m256 u8x8_to_float(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)); }

FQ_AVX2 static void q4_0_avx2(const uint8_t *src, float *dst, int64_t nb) {
    const __m128i mask = _mm_set1_epi8(0x0F);
    const __m256i eight = _mm256_set1_epi32(8);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 18 * i;
        const __m256 d = _mm256_set1_ps(fq_half_avx2(b));
        const __m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
        const __m128i lo = _mm_and_si128(q, mask), hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
        const __m128i parts[4] = { lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8) };
        for (int k = 0; k < 4; k++) {
            const __m256i v = _mm256_sub_epi32(_mm256_cvtepu8_epi32(parts[k]), eight);
            _mm256_storeu_ps(dst + 32 * i + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(v), d));
        }
    }
}

FQ_AVX2 static void q4_1_avx2(const uint8_t *src, float *dst, int64_t nb) {
    const __m128i mask = _mm_set1_epi8(0x0F);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 20 * i;
        const __m256 d = _mm256_set1_ps(fq_half_avx2(b)), m = _mm256_set1_ps(fq_half_avx2(b + 2));
        const __m128i q = _mm_loadu_si128((const __m128i *)(b + 4));
        const __m128i lo = _mm_and_si128(q, mask), hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
        const __m128i parts[4] = { lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8) };
        for (int k = 0; k < 4; k++) {
            _mm256_storeu_ps(dst + 32 * i + 8 * k, _mm256_add_ps(_mm256_mul_ps(u8x8_to_float(parts[k]), d), m));
        }
    }
}

FQ_AVX2 static void q8_0_avx2(const uint8_t *src, float *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 34 * i;
        const __m256 d = _mm256_set1_ps(fq_half_avx2(b));
        for (int k = 0; k < 4; k++) {
            const __m128i q = _mm_loadl_epi64((const __m128i *)(b + 2 + 8 * k));
            const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
            _mm256_storeu_ps(dst + 32 * i + 8 * k, _mm256_mul_ps(v, d));
        }
    }
}

FQ_AVX2 static void q4_k_avx2(const uint8_t *src, float *dst, int64_t nb) {
    const __m128i mask = _mm_set1_epi8(0x0F);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 144 * i;
        const float d = fq_half_avx2(b), dmin = fq_half_avx2(b + 2);
        const uint8_t *scales = b + 4, *q = b + 16;
        float *y = dst + 256 * i;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32, y += 64) {
            uint8_t sc, m;
            q4_k_scale_min(is, scales, &sc, &m);
            const __m256 d1 = _mm256_set1_ps(d * (float)sc), m1 = _mm256_set1_ps(dmin * (float)m);
            q4_k_scale_min(is + 1, scales, &sc, &m);
            const __m256 d2 = _mm256_set1_ps(d * (float)sc), m2 = _mm256_set1_ps(dmin * (float)m);
            for (int h = 0; h < 2; h++) {
                const __m128i v = _mm_loadu_si128((const __m128i *)(q + 16 * h));
                const __m128i lo = _mm_and_si128(v, mask), hi = _mm_and_si128(_mm_srli_epi16(v, 4), mask);
                _mm256_storeu_ps(y + 16 * h, _mm256_sub_ps(_mm256_mul_ps(d1, u8x8_to_float(lo)), m1));
                _mm256_storeu_ps(y + 16 * h + 8, _mm256_sub_ps(_mm256_mul_ps(d1, u8x8_to_float(_mm_srli_si128(lo, 8))), m1));
                _mm256_storeu_ps(y + 32 + 16 * h, _mm256_sub_ps(_mm256_mul_ps(d2, u8x8_to_float(hi)), m2));
                _mm256_storeu_ps(y + 32 + 16 * h + 8, _mm256_sub_ps(_mm256_mul_ps(d2, u8x8_to_float(_mm_srli_si128(hi, 8))), m2));
            }
        }
    }
}

FQ_AVX2 static void q6_k_avx2(const uint8_t *src, float *dst, int64_t nb) {
    const __m256i m4 = _mm256_set1_epi32(0x0F), m2 = _mm256_set1_epi32(3), bias = _mm256_set1_epi32(32);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = src + 210 * i;
        const float d = fq_half_avx2(b + 208);
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        float *y = dst + 256 * i;
        for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l += 8) {
                const int is = l / 16;
                const __m256i a = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(ql + l)));
                const __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(ql + l + 32)));
                const __m256i h = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qh + l)));
                const __m256i q1 = _mm256_sub_epi32(_mm256_or_si256(_mm256_and_si256(a, m4), _mm256_slli_epi32(_mm256_and_si256(h, m2), 4)), bias);
                const __m256i q2 = _mm256_sub_epi32(_mm256_or_si256(_mm256_and_si256(c, m4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 2), m2), 4)), bias);
                const __m256i q3 = _mm256_sub_epi32(_mm256_or_si256(_mm256_srli_epi32(a, 4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 4), m2), 4)), bias);
                const __m256i q4 = _mm256_sub_epi32(_mm256_or_si256(_mm256_srli_epi32(c, 4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 6), m2), 4)), bias);
                _mm256_storeu_ps(y + l, _mm256_mul_ps(_mm256_set1_ps(d * (float)sc[is]), _mm256_cvtepi32_ps(q1)));
                _mm256_storeu_ps(y + l + 32, _mm256_mul_ps(_mm256_set1_ps(d * (float)sc[is + 2]), _mm256_cvtepi32_ps(q2)));
                _mm256_storeu_ps(y + l + 64, _mm256_mul_ps(_mm256_set1_ps(d * (float)sc[is + 4]), _mm256_cvtepi32_ps(q3)));
                _mm256_storeu_ps(y + l + 96, _mm256_mul_ps(_mm256_set1_ps(d * (float)sc[is + 6]), _mm256_cvtepi32_ps(q4)));
            }
        }
    }
}

FQ_AVX2 static void f16_avx2(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
}
#define FQ_DISPATCH(name, ...) do { if (isa == FQ_ISA_AVX2) { name##_avx2(__VA_ARGS__); return; } name##_scalar(__VA_ARGS__); } while (0)
#else
#define FQ_DISPATCH(name, ...) do { (void)isa; name##_scalar(__VA_ARGS__); } while (0)
#endif

void fq_dequantize_q4_0(const uint8_t *src, float *dst, int64_t nb, int isa) { FQ_DISPATCH(q4_0, src, dst, nb); }
void fq_dequantize_q4_1(const uint8_t *src, float *dst, int64_t nb, int isa) { FQ_DISPATCH(q4_1, src, dst, nb); }
void fq_dequantize_q8_0(const uint8_t *src, float *dst, int64_t nb, int isa) { FQ_DISPATCH(q8_0, src, dst, nb); }
void fq_dequantize_q4_k(const uint8_t *src, float *dst, int64_t nb, int isa) { FQ_DISPATCH(q4_k, src, dst, nb); }
void fq_dequantize_q6_k(const uint8_t *src, float *dst, int64_t nb, int isa) { FQ_DISPATCH(q6_k, src, dst, nb); }
void fq_dequantize_f16(const uint16_t *src, float *dst, int64_t n, int isa) { FQ_DISPATCH(f16, src, dst, n); }
