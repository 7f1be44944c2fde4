// Hashed dropout masks: element i of a pass with keys (k0, k1) survives when
// mix(mix(i + k0) ^ k1) >= threshold (all arithmetic modulo 2^32), so a mask is regenerated from
// its seed in backward and under recomputation instead of being stored.
#include "CVectorKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define FV_X86 1
#include <immintrin.h>
#define FV_AVX2 __attribute__((target("avx2")))
#else
#define FV_X86 0
#endif

int fv_has_avx2(void) {
#if FV_X86 && (defined(__clang__) || defined(__GNUC__))
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return cached;
#else
    return 0;
#endif
}

static inline uint32_t mix32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

uint32_t fv_dropout_hash(uint32_t i, uint32_t k0, uint32_t k1) { return mix32(mix32(i + k0) ^ k1); }

#if FV_X86
FV_AVX2 static inline __m256i mix32_avx2(__m256i x) {
    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
    x = _mm256_mullo_epi32(x, _mm256_set1_epi32((int)0x7FEB352Du));
    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
    x = _mm256_mullo_epi32(x, _mm256_set1_epi32((int)0x846CA68Bu));
    x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
    return x;
}

/// All-ones lanes where hash(index lanes) >= threshold (unsigned): max(h, t) == h.
FV_AVX2 static inline __m256 keep_mask_avx2(__m256i idx, __m256i k0, __m256i k1, __m256i t) {
    __m256i h = mix32_avx2(_mm256_xor_si256(mix32_avx2(_mm256_add_epi32(idx, k0)), k1));
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_max_epu32(h, t), h));
}

FV_AVX2 static int64_t forward_avx2(float *out, const float *inp, int64_t count, int64_t first, uint32_t k0, uint32_t k1,
                                    uint32_t threshold, float scale) {
    const __m256i vk0 = _mm256_set1_epi32((int)k0), vk1 = _mm256_set1_epi32((int)k1), vt = _mm256_set1_epi32((int)threshold);
    const __m256i step = _mm256_set1_epi32(8);
    const __m256 vs = _mm256_set1_ps(scale);
    __m256i idx = _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)first), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    int64_t j = 0;
    for (; j + 8 <= count; j += 8) {
        const __m256 keep = keep_mask_avx2(idx, vk0, vk1, vt);
        _mm256_storeu_ps(out + j, _mm256_and_ps(keep, _mm256_mul_ps(_mm256_loadu_ps(inp + j), vs)));
        idx = _mm256_add_epi32(idx, step);
    }
    return j;
}

FV_AVX2 static int64_t backward_avx2(float *dinp, const float *dout, int64_t count, int64_t first, uint32_t k0, uint32_t k1,
                                     uint32_t threshold, float scale) {
    const __m256i vk0 = _mm256_set1_epi32((int)k0), vk1 = _mm256_set1_epi32((int)k1), vt = _mm256_set1_epi32((int)threshold);
    const __m256i step = _mm256_set1_epi32(8);
    const __m256 vs = _mm256_set1_ps(scale);
    __m256i idx = _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)first), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    int64_t j = 0;
    for (; j + 8 <= count; j += 8) {
        const __m256 keep = keep_mask_avx2(idx, vk0, vk1, vt);
        const __m256 g = _mm256_and_ps(keep, _mm256_mul_ps(_mm256_loadu_ps(dout + j), vs));
        _mm256_storeu_ps(dinp + j, _mm256_add_ps(_mm256_loadu_ps(dinp + j), g));
        idx = _mm256_add_epi32(idx, step);
    }
    return j;
}
#endif

void fv_dropout_forward(float *out, const float *inp, int64_t count, int64_t first, uint32_t k0, uint32_t k1,
                        uint32_t threshold, float scale) {
    int64_t j = 0;
#if FV_X86
    if (fv_has_avx2()) j = forward_avx2(out, inp, count, first, k0, k1, threshold, scale);
#endif
    for (; j < count; j++) {
        out[j] = fv_dropout_hash((uint32_t)(first + j), k0, k1) >= threshold ? inp[j] * scale : 0.0f;
    }
}

void fv_dropout_backward_accumulate(float *dinp, const float *dout, int64_t count, int64_t first, uint32_t k0, uint32_t k1,
                                    uint32_t threshold, float scale) {
    int64_t j = 0;
#if FV_X86
    if (fv_has_avx2()) j = backward_avx2(dinp, dout, count, first, k0, k1, threshold, scale);
#endif
    for (; j < count; j++) {
        if (fv_dropout_hash((uint32_t)(first + j), k0, k1) >= threshold) dinp[j] += dout[j] * scale;
    }
}
