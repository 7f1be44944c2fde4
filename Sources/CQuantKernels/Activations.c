// Quantization of float activations to Q8 blocks for the integer dot products.
// Scalar and AVX2 produce identical bytes: d = absmax / 127, id = 1 / d (0 when d is 0),
// q = x * id rounded half to even, s = d * sum(q).
#include "Internal.h"
#include <math.h>

#pragma STDC FP_CONTRACT OFF

static void act_scalar(const float *x, int64_t nb, int8_t *q, float *d, float *s) {
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + 32 * i;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float a = fabsf(xb[j]);
            amax = a > amax ? a : amax;
        }
        const float di = amax / 127.0f;
        const float id = di != 0.0f ? 1.0f / di : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            const int v = (int)nearbyintf(xb[j] * id);
            q[32 * i + j] = (int8_t)v;
            sum += v;
        }
        d[i] = di;
        s[i] = di * (float)sum;
    }
}

#if FQ_X86
#define FQ_ROUND_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

FQ_AVX2 static void act_avx2(const float *x, int64_t nb, int8_t *q, float *d, float *s) {
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + 32 * i;
        __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
        __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signbit, v0), _mm256_andnot_ps(signbit, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(signbit, v2), _mm256_andnot_ps(signbit, v3)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        const float amax = _mm_cvtss_f32(h);
        const float di = amax / 127.0f;
        const float id = di != 0.0f ? 1.0f / di : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, vid), FQ_ROUND_NEAREST));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, vid), FQ_ROUND_NEAREST));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, vid), FQ_ROUND_NEAREST));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, vid), FQ_ROUND_NEAREST));
        __m256i total = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i t = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
        const int sum = _mm_cvtsi128_si32(t);
        // Pack 32 int32 to 32 int8 (values are within [-127, 127]); packs interleave 128-bit lanes,
        // the final permute restores element order.
        __m256i p01 = _mm256_packs_epi32(i0, i1), p23 = _mm256_packs_epi32(i2, i3);
        __m256i p = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p01, p23), order);
        _mm256_storeu_si256((__m256i *)(q + 32 * i), p);
        d[i] = di;
        s[i] = di * (float)sum;
    }
}
#endif

void fq_quantize_q8_activations(const float *x, int64_t nb, int8_t *q, float *d, float *s, int isa) {
#if FQ_X86
    if (isa == FQ_ISA_AVX2) { act_avx2(x, nb, q, d, s); return; }
#endif
    (void)isa;
    act_scalar(x, nb, q, d, s);
}
