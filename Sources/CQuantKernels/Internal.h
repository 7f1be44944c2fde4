// Shared helpers of the CQuantKernels sources (not part of the public header).
#ifndef CQUANTKERNELS_INTERNAL_H
#define CQUANTKERNELS_INTERNAL_H

#include "CQuantKernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define FQ_X86 1
#include <immintrin.h>
#define FQ_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define FQ_X86 0
#endif

/// Little-endian u16 at p (block fields are unaligned).
static inline uint16_t fq_load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline float fq_half(const uint8_t *p) { return fq_half_to_float(fq_load_u16(p)); }

#if FQ_X86
FQ_AVX2 static inline float fq_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

FQ_AVX2 static inline float fq_half_avx2(const uint8_t *p) { return _cvtsh_ss(fq_load_u16(p)); }
#endif

#endif
