// NF4 decoding and matrix-vector products (layout in include/CQuantFrozenKernels.h). The scalar and
// AVX2 decoders compute every value as levels[code] * scale with scale = map[c] * group + offset, so
// they agree bit for bit with each other and with bitsandbytes' dequantize_4bit.
#include "Internal.h"

#pragma STDC FP_CONTRACT OFF

static inline float nf4_scale(const fq_nf4_state *s, int64_t b) {
    return s->map[s->scale_codes[b]] * s->group_scales[b >> 8] + s->offset;
}

// MARK: scalar

static void nf4_dequantize_scalar(const fq_nf4_state *s, int64_t first, int64_t nb, float *dst) {
    for (int64_t i = 0; i < nb; i++) {
        const int64_t b = first + i;
        const float d = nf4_scale(s, b);
        const uint8_t *q = s->packed + 32 * b;
        float *y = dst + 64 * i;
        for (int k = 0; k < 32; k++) {
            y[2 * k] = s->levels[q[k] >> 4] * d;
            y[2 * k + 1] = s->levels[q[k] & 0x0F] * d;
        }
    }
}

static void nf4_gemv_scalar(const fq_nf4_state *s, int64_t nbr, int64_t row0, int64_t rows, const float *x, float *y) {
    for (int64_t r = row0; r < row0 + rows; r++) {
        float acc = 0.0f;
        for (int64_t j = 0; j < nbr; j++) {
            const int64_t b = r * nbr + j;
            const uint8_t *q = s->packed + 32 * b;
            const float *xb = x + 64 * j;
            float sum = 0.0f;
            for (int k = 0; k < 32; k++) sum += s->levels[q[k] >> 4] * xb[2 * k] + s->levels[q[k] & 0x0F] * xb[2 * k + 1];
            acc += sum * nf4_scale(s, b);
        }
        y[r] = acc;
    }
}

// MARK: AVX2

#if FQ_X86
/// The levels of 8 codes (int32 lanes 0..15): two in-register table lookups and a blend on bit 3.
FQ_AVX2 static inline __m256 nf4_lookup(__m256i idx, __m256 lo, __m256 hi) {
    const __m256 a = _mm256_permutevar8x32_ps(lo, idx), b = _mm256_permutevar8x32_ps(hi, idx);
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
}

/// The 64 codes of a block in value order as bytes: out[0] values 0..15, ..., out[3] values 48..63.
FQ_AVX2 static inline void nf4_unpack(const uint8_t *q, __m128i out[4]) {
    const __m128i mask = _mm_set1_epi8(0x0F);
    for (int h = 0; h < 2; h++) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(q + 16 * h));
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), mask), lo = _mm_and_si128(v, mask);
        out[2 * h] = _mm_unpacklo_epi8(hi, lo);
        out[2 * h + 1] = _mm_unpackhi_epi8(hi, lo);
    }
}

FQ_AVX2 static void nf4_dequantize_avx2(const fq_nf4_state *s, int64_t first, int64_t nb, float *dst) {
    const __m256 lo = _mm256_loadu_ps(s->levels), hi = _mm256_loadu_ps(s->levels + 8);
    for (int64_t i = 0; i < nb; i++) {
        const int64_t b = first + i;
        const __m256 d = _mm256_set1_ps(nf4_scale(s, b));
        __m128i codes[4];
        nf4_unpack(s->packed + 32 * b, codes);
        float *y = dst + 64 * i;
        for (int k = 0; k < 4; k++) {
            const __m256i i0 = _mm256_cvtepu8_epi32(codes[k]), i1 = _mm256_cvtepu8_epi32(_mm_srli_si128(codes[k], 8));
            _mm256_storeu_ps(y + 16 * k, _mm256_mul_ps(nf4_lookup(i0, lo, hi), d));
            _mm256_storeu_ps(y + 16 * k + 8, _mm256_mul_ps(nf4_lookup(i1, lo, hi), d));
        }
    }
}

FQ_AVX2 static void nf4_gemv_avx2(const fq_nf4_state *s, int64_t nbr, int64_t row0, int64_t rows, const float *x, float *y) {
    const __m256 lo = _mm256_loadu_ps(s->levels), hi = _mm256_loadu_ps(s->levels + 8);
    for (int64_t r = row0; r < row0 + rows; r++) {
        __m256 acc = _mm256_setzero_ps();
        for (int64_t j = 0; j < nbr; j++) {
            const int64_t b = r * nbr + j;
            __m128i codes[4];
            nf4_unpack(s->packed + 32 * b, codes);
            const float *xb = x + 64 * j;
            __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
            for (int k = 0; k < 4; k++) {
                const __m256i i0 = _mm256_cvtepu8_epi32(codes[k]), i1 = _mm256_cvtepu8_epi32(_mm_srli_si128(codes[k], 8));
                s0 = _mm256_fmadd_ps(nf4_lookup(i0, lo, hi), _mm256_loadu_ps(xb + 16 * k), s0);
                s1 = _mm256_fmadd_ps(nf4_lookup(i1, lo, hi), _mm256_loadu_ps(xb + 16 * k + 8), s1);
            }
            acc = _mm256_fmadd_ps(_mm256_add_ps(s0, s1), _mm256_set1_ps(nf4_scale(s, b)), acc);
        }
        y[r] = fq_hsum256(acc);
    }
}
#define NF4_DISPATCH(name, ...) do { if (isa == FQ_ISA_AVX2) { name##_avx2(__VA_ARGS__); return; } name##_scalar(__VA_ARGS__); } while (0)
#else
#define NF4_DISPATCH(name, ...) do { (void)isa; name##_scalar(__VA_ARGS__); } while (0)
#endif

void fq_dequantize_nf4(const fq_nf4_state *state, int64_t first_block, int64_t nb, float *dst, int isa) {
    NF4_DISPATCH(nf4_dequantize, state, first_block, nb, dst);
}

void fq_gemv_nf4_f32(const fq_nf4_state *state, int64_t blocks_per_row, int64_t first_row, int64_t rows,
                     const float *x, float *y, int isa) {
    NF4_DISPATCH(nf4_gemv, state, blocks_per_row, first_row, rows, x, y);
}
