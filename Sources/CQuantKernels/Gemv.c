// Matrix-vector products of quantized weight rows with an activation vector: either Q8 activations
// (integer dot products per block, as llama.cpp's ggml_vec_dot_q4_1_q8_1 and friends) or float32.
#include "Internal.h"

// MARK: scalar, integer activations

static float dot_q4_0_q8_scalar(const uint8_t *w, int64_t nb, const int8_t *xq, const float *xd) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 18 * b;
        const int8_t *y = xq + 32 * b;
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            sum += ((blk[2 + j] & 0x0F) - 8) * y[j];
            sum += ((blk[2 + j] >> 4) - 8) * y[j + 16];
        }
        acc += fq_half(blk) * xd[b] * (float)sum;
    }
    return acc;
}

static float dot_q4_1_q8_scalar(const uint8_t *w, int64_t nb, const int8_t *xq, const float *xd, const float *xs) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 20 * b;
        const int8_t *y = xq + 32 * b;
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            sum += (blk[4 + j] & 0x0F) * y[j];
            sum += (blk[4 + j] >> 4) * y[j + 16];
        }
        acc += fq_half(blk) * xd[b] * (float)sum + fq_half(blk + 2) * xs[b];
    }
    return acc;
}

static float dot_q8_0_q8_scalar(const uint8_t *w, int64_t nb, const int8_t *xq, const float *xd) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 34 * b;
        const int8_t *y = xq + 32 * b;
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += (int8_t)blk[2 + j] * y[j];
        acc += fq_half(blk) * xd[b] * (float)sum;
    }
    return acc;
}

// MARK: scalar, float activations

static float dot_q4_0_f32_scalar(const uint8_t *w, int64_t nb, const float *x) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 18 * b;
        const float *xb = x + 32 * b;
        float sum = 0.0f;
        for (int j = 0; j < 16; j++) {
            sum += (float)((blk[2 + j] & 0x0F) - 8) * xb[j];
            sum += (float)((blk[2 + j] >> 4) - 8) * xb[j + 16];
        }
        acc += fq_half(blk) * sum;
    }
    return acc;
}

static float dot_q4_1_f32_scalar(const uint8_t *w, int64_t nb, const float *x) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 20 * b;
        const float *xb = x + 32 * b;
        float sum = 0.0f, xsum = 0.0f;
        for (int j = 0; j < 16; j++) {
            sum += (float)(blk[4 + j] & 0x0F) * xb[j];
            sum += (float)(blk[4 + j] >> 4) * xb[j + 16];
            xsum += xb[j] + xb[j + 16];
        }
        acc += fq_half(blk) * sum + fq_half(blk + 2) * xsum;
    }
    return acc;
}

static float dot_q8_0_f32_scalar(const uint8_t *w, int64_t nb, const float *x) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 34 * b;
        float sum = 0.0f;
        for (int j = 0; j < 32; j++) sum += (float)(int8_t)blk[2 + j] * x[32 * b + j];
        acc += fq_half(blk) * sum;
    }
    return acc;
}

static float dot_f16_f32_scalar(const uint8_t *w, int64_t n, const float *x) {
    float acc = 0.0f;
    for (int64_t j = 0; j < n; j++) acc += fq_half(w + 2 * j) * x[j];
    return acc;
}

// MARK: AVX2

#if FQ_X86
/// The 32 nibbles of a 16-byte Q4 payload as bytes 0..15: low nibbles first, then high nibbles.
FQ_AVX2 static inline __m256i unpack_nibbles(const uint8_t *p) {
    const __m128i q = _mm_loadu_si128((const __m128i *)p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
}

/// Eight int32 partial sums of the products of signed bytes a and b (|a|, |b| <= 128, pairs fit int16).
FQ_AVX2 static inline __m256i dot_i8(__m256i a, __m256i b) {
    const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

FQ_AVX2 static float dot_q4_0_q8_avx2(const uint8_t *w, int64_t nb, const int8_t *xq, const float *xd) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i eight = _mm256_set1_epi8(8);
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const uint8_t *b0 = w + 18 * b, *b1 = b0 + 18;
        const __m256i q0 = _mm256_sub_epi8(unpack_nibbles(b0 + 2), eight), q1 = _mm256_sub_epi8(unpack_nibbles(b1 + 2), eight);
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b)), y1 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b + 32));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(b0) * xd[b]), _mm256_cvtepi32_ps(dot_i8(q0, y0)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(b1) * xd[b + 1]), _mm256_cvtepi32_ps(dot_i8(q1, y1)), acc1);
    }
    for (; b < nb; b++) {
        const uint8_t *b0 = w + 18 * b;
        const __m256i q0 = _mm256_sub_epi8(unpack_nibbles(b0 + 2), eight);
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(b0) * xd[b]), _mm256_cvtepi32_ps(dot_i8(q0, y0)), acc0);
    }
    return fq_hsum256(_mm256_add_ps(acc0, acc1));
}

FQ_AVX2 static float dot_q4_1_q8_avx2(const uint8_t *w, int64_t nb, const int8_t *xq, const float *xd, const float *xs) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    float mins = 0.0f;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const uint8_t *b0 = w + 20 * b, *b1 = b0 + 20;
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b)), y1 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b + 32));
        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(unpack_nibbles(b0 + 4), y0), ones);
        const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(unpack_nibbles(b1 + 4), y1), ones);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(b0) * xd[b]), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(b1) * xd[b + 1]), _mm256_cvtepi32_ps(p1), acc1);
        mins += fq_half_avx2(b0 + 2) * xs[b] + fq_half_avx2(b1 + 2) * xs[b + 1];
    }
    for (; b < nb; b++) {
        const uint8_t *b0 = w + 20 * b;
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(unpack_nibbles(b0 + 4), y0), ones);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(b0) * xd[b]), _mm256_cvtepi32_ps(p0), acc0);
        mins += fq_half_avx2(b0 + 2) * xs[b];
    }
    return fq_hsum256(_mm256_add_ps(acc0, acc1)) + mins;
}

FQ_AVX2 static float dot_q8_0_q8_avx2(const uint8_t *w, int64_t nb, const int8_t *xq, const float *xd) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const uint8_t *b0 = w + 34 * b, *b1 = b0 + 34;
        const __m256i q0 = _mm256_loadu_si256((const __m256i *)(b0 + 2)), q1 = _mm256_loadu_si256((const __m256i *)(b1 + 2));
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b)), y1 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b + 32));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(b0) * xd[b]), _mm256_cvtepi32_ps(dot_i8(q0, y0)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(b1) * xd[b + 1]), _mm256_cvtepi32_ps(dot_i8(q1, y1)), acc1);
    }
    for (; b < nb; b++) {
        const uint8_t *b0 = w + 34 * b;
        const __m256i q0 = _mm256_loadu_si256((const __m256i *)(b0 + 2));
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(b0) * xd[b]), _mm256_cvtepi32_ps(dot_i8(q0, y0)), acc0);
    }
    return fq_hsum256(_mm256_add_ps(acc0, acc1));
}

/// Software prefetch distance of the matrix-vector loops, in bytes ahead of the weights being read.
/// Rows are streamed from memory once per token; on Zen 3 the hardware prefetcher alone leaves one
/// thread at about 8 GB/s on these loops, 4 KiB ahead brings it to the kernels' compute rate (~14 GB/s
/// for Q4_1, measured on the SmolLM2 weights; 2-8 KiB are equally good, 1 KiB is not enough).
#define FQ_PREFETCH_BYTES 4096

/// Requests the cache lines of [p, p + bytes) that lie before `end`.
FQ_AVX2 static inline void prefetch_span(const uint8_t *p, const uint8_t *end, int bytes) {
    for (int o = 0; o < bytes; o += 64)
        if (p + o < end) _mm_prefetch((const char *)(p + o), _MM_HINT_T0);
}

/// The half floats at byte `offset` of four blocks as floats in lanes 0..3 (lanes 4..7 zero).
FQ_AVX2 static inline __m256 half4(const uint8_t *b0, const uint8_t *b1, const uint8_t *b2, const uint8_t *b3, int offset) {
    const __m128i h = _mm_setr_epi16((short)fq_load_u16(b0 + offset), (short)fq_load_u16(b1 + offset),
                                     (short)fq_load_u16(b2 + offset), (short)fq_load_u16(b3 + offset), 0, 0, 0, 0);
    return _mm256_castps128_ps256(_mm_cvtph_ps(h));
}

/// As `unpack_nibbles`, with the 16 bytes broadcast to both halves by the load and one variable
/// shift: one vector operation fewer (the 4-row Q4_1 loop runs 10% faster from L2 on Zen 3).
FQ_AVX2 static inline __m256i unpack_nibbles_v(const uint8_t *p) {
    const __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
    return _mm256_and_si256(_mm256_srlv_epi32(q, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0F));
}
#define UNPACK unpack_nibbles_v

/// Sums of the eight lanes of each of a0..a3, as four floats.
FQ_AVX2 static inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

/// Four rows at a time: each activation block is loaded once, the four rows' block scales are
/// converted with one vcvtph2ps and multiplied by the activation scale together, and the weights
/// ahead are prefetched (see FQ_PREFETCH_BYTES). `KIND` 0 = Q4_0, 1 = Q4_1, 2 = Q8_0. About 1.7x
/// the one-row loop on Zen 3.
#define FQ_GEMV4(NAME, KIND, BLOCK, ONE_ROW)                                                                   \
FQ_AVX2 static void NAME(const uint8_t *w, int64_t stride, int64_t rows, int64_t nb,                          \
                         const int8_t *xq, const float *xd, const float *xs, float *y) {                      \
    const __m256i ones = _mm256_set1_epi16(1), eight = _mm256_set1_epi8(8);                                   \
    const __m256i l0 = _mm256_set1_epi32(0), l1 = _mm256_set1_epi32(1);                                       \
    const __m256i l2 = _mm256_set1_epi32(2), l3 = _mm256_set1_epi32(3);                                       \
    const uint8_t *end = w + rows * stride;                                                                    \
    int64_t r = 0;                                                                                             \
    for (; r + 4 <= rows; r += 4) {                                                                            \
        const uint8_t *w0 = w + r * stride, *w1 = w0 + stride, *w2 = w1 + stride, *w3 = w2 + stride;           \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                            \
        __m128 mins = _mm_setzero_ps();                                                                        \
        for (int64_t b = 0; b < nb; b++) {                                                                     \
            const uint8_t *b0 = w0 + BLOCK * b, *b1 = w1 + BLOCK * b, *b2 = w2 + BLOCK * b, *b3 = w3 + BLOCK * b; \
            prefetch_span(w0 + FQ_PREFETCH_BYTES + 4 * BLOCK * b, end, 4 * BLOCK);                              \
            const __m256i yv = _mm256_loadu_si256((const __m256i *)(xq + 32 * b));                             \
            __m256 sc;                                                                                         \
            __m256i p0, p1, p2, p3;                                                                            \
            if (KIND == 1) {                                                                                   \
                sc = _mm256_mul_ps(half4(b0, b1, b2, b3, 0), _mm256_set1_ps(xd[b]));                           \
                mins = _mm_fmadd_ps(_mm256_castps256_ps128(half4(b0, b1, b2, b3, 2)), _mm_set1_ps(xs[b]), mins); \
                p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(UNPACK(b0 + 4), yv), ones);                        \
                p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(UNPACK(b1 + 4), yv), ones);                        \
                p2 = _mm256_madd_epi16(_mm256_maddubs_epi16(UNPACK(b2 + 4), yv), ones);                        \
                p3 = _mm256_madd_epi16(_mm256_maddubs_epi16(UNPACK(b3 + 4), yv), ones);                        \
            } else if (KIND == 0) {                                                                            \
                sc = _mm256_mul_ps(half4(b0, b1, b2, b3, 0), _mm256_set1_ps(xd[b]));                           \
                p0 = dot_i8(_mm256_sub_epi8(UNPACK(b0 + 2), eight), yv);                       \
                p1 = dot_i8(_mm256_sub_epi8(UNPACK(b1 + 2), eight), yv);                       \
                p2 = dot_i8(_mm256_sub_epi8(UNPACK(b2 + 2), eight), yv);                       \
                p3 = dot_i8(_mm256_sub_epi8(UNPACK(b3 + 2), eight), yv);                       \
            } else {                                                                                           \
                sc = _mm256_mul_ps(half4(b0, b1, b2, b3, 0), _mm256_set1_ps(xd[b]));                           \
                p0 = dot_i8(_mm256_loadu_si256((const __m256i *)(b0 + 2)), yv);                                \
                p1 = dot_i8(_mm256_loadu_si256((const __m256i *)(b1 + 2)), yv);                                \
                p2 = dot_i8(_mm256_loadu_si256((const __m256i *)(b2 + 2)), yv);                                \
                p3 = dot_i8(_mm256_loadu_si256((const __m256i *)(b3 + 2)), yv);                                \
            }                                                                                                  \
            a0 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(sc, l0), _mm256_cvtepi32_ps(p0), a0);                \
            a1 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(sc, l1), _mm256_cvtepi32_ps(p1), a1);                \
            a2 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(sc, l2), _mm256_cvtepi32_ps(p2), a2);                \
            a3 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(sc, l3), _mm256_cvtepi32_ps(p3), a3);                \
        }                                                                                                      \
        __m128 total = hsum4(a0, a1, a2, a3);                                                                  \
        if (KIND == 1) total = _mm_add_ps(total, mins);                                                        \
        _mm_storeu_ps(y + r, total);                                                                           \
    }                                                                                                          \
    for (; r < rows; r++) y[r] = ONE_ROW;                                                                      \
}

FQ_GEMV4(gemv4_q4_0_q8_avx2, 0, 18, dot_q4_0_q8_avx2(w + r * stride, nb, xq, xd))
FQ_GEMV4(gemv4_q4_1_q8_avx2, 1, 20, dot_q4_1_q8_avx2(w + r * stride, nb, xq, xd, xs))
FQ_GEMV4(gemv4_q8_0_q8_avx2, 2, 34, dot_q8_0_q8_avx2(w + r * stride, nb, xq, xd))

/// Floats of 8 unsigned bytes.
FQ_AVX2 static inline __m256 u8x8f(__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)); }

FQ_AVX2 static float dot_q4_0_f32_avx2(const uint8_t *w, int64_t nb, const float *x) {
    __m256 acc = _mm256_setzero_ps();
    const __m128i mask = _mm_set1_epi8(0x0F);
    const __m256 eight = _mm256_set1_ps(8.0f);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 18 * b;
        const float *xb = x + 32 * b;
        const __m128i q = _mm_loadu_si128((const __m128i *)(blk + 2));
        const __m128i lo = _mm_and_si128(q, mask), hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
        __m256 s = _mm256_mul_ps(_mm256_sub_ps(u8x8f(lo), eight), _mm256_loadu_ps(xb));
        s = _mm256_fmadd_ps(_mm256_sub_ps(u8x8f(_mm_srli_si128(lo, 8)), eight), _mm256_loadu_ps(xb + 8), s);
        s = _mm256_fmadd_ps(_mm256_sub_ps(u8x8f(hi), eight), _mm256_loadu_ps(xb + 16), s);
        s = _mm256_fmadd_ps(_mm256_sub_ps(u8x8f(_mm_srli_si128(hi, 8)), eight), _mm256_loadu_ps(xb + 24), s);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(blk)), s, acc);
    }
    return fq_hsum256(acc);
}

FQ_AVX2 static float dot_q4_1_f32_avx2(const uint8_t *w, int64_t nb, const float *x) {
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    const __m128i mask = _mm_set1_epi8(0x0F);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 20 * b;
        const float *xb = x + 32 * b;
        const __m128i q = _mm_loadu_si128((const __m128i *)(blk + 4));
        const __m128i lo = _mm_and_si128(q, mask), hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
        const __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8), x2 = _mm256_loadu_ps(xb + 16), x3 = _mm256_loadu_ps(xb + 24);
        __m256 s = _mm256_mul_ps(u8x8f(lo), x0);
        s = _mm256_fmadd_ps(u8x8f(_mm_srli_si128(lo, 8)), x1, s);
        s = _mm256_fmadd_ps(u8x8f(hi), x2, s);
        s = _mm256_fmadd_ps(u8x8f(_mm_srli_si128(hi, 8)), x3, s);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(blk)), s, acc);
        const __m256 xs = _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3));
        accm = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(blk + 2)), xs, accm);
    }
    return fq_hsum256(_mm256_add_ps(acc, accm));
}

FQ_AVX2 static float dot_q8_0_f32_avx2(const uint8_t *w, int64_t nb, const float *x) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + 34 * b;
        const float *xb = x + 32 * b;
        __m256 s = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(blk + 2 + 8 * k))));
            s = _mm256_fmadd_ps(v, _mm256_loadu_ps(xb + 8 * k), s);
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(fq_half_avx2(blk)), s, acc);
    }
    return fq_hsum256(acc);
}

FQ_AVX2 static float dot_f16_f32_avx2(const uint8_t *w, int64_t n, const float *x) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 2 * j))), _mm256_loadu_ps(x + j), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 2 * j + 16))), _mm256_loadu_ps(x + j + 8), a1);
    }
    float acc = fq_hsum256(_mm256_add_ps(a0, a1));
    for (; j < n; j++) acc += fq_half_avx2(w + 2 * j) * x[j];
    return acc;
}
#define FQ_HAVE_AVX2 1
#else
#define FQ_HAVE_AVX2 0
#endif

// MARK: row loops

#if FQ_HAVE_AVX2
#define FQ_ROWS(name, ...) \
    if (isa == FQ_ISA_AVX2) { for (int64_t r = 0; r < rows; r++) y[r] = name##_avx2(w + r * row_stride, __VA_ARGS__); return; } \
    for (int64_t r = 0; r < rows; r++) y[r] = name##_scalar(w + r * row_stride, __VA_ARGS__);
#else
#define FQ_ROWS(name, ...) \
    (void)isa; for (int64_t r = 0; r < rows; r++) y[r] = name##_scalar(w + r * row_stride, __VA_ARGS__);
#endif

void fq_gemv_q4_0_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb,
                     const int8_t *xq, const float *xd, const float *xs, float *y, int isa) {
#if FQ_HAVE_AVX2
    if (isa == FQ_ISA_AVX2) { gemv4_q4_0_q8_avx2(w, row_stride, rows, nb, xq, xd, xs, y); return; }
#endif
    (void)xs;
    FQ_ROWS(dot_q4_0_q8, nb, xq, xd)
}

void fq_gemv_q4_1_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb,
                     const int8_t *xq, const float *xd, const float *xs, float *y, int isa) {
#if FQ_HAVE_AVX2
    if (isa == FQ_ISA_AVX2) { gemv4_q4_1_q8_avx2(w, row_stride, rows, nb, xq, xd, xs, y); return; }
#endif
    FQ_ROWS(dot_q4_1_q8, nb, xq, xd, xs)
}

void fq_gemv_q8_0_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb,
                     const int8_t *xq, const float *xd, const float *xs, float *y, int isa) {
#if FQ_HAVE_AVX2
    if (isa == FQ_ISA_AVX2) { gemv4_q8_0_q8_avx2(w, row_stride, rows, nb, xq, xd, xs, y); return; }
#endif
    (void)xs;
    FQ_ROWS(dot_q8_0_q8, nb, xq, xd)
}

void fq_gemv_q4_0_f32(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const float *x, float *y, int isa) {
    FQ_ROWS(dot_q4_0_f32, nb, x)
}

void fq_gemv_q4_1_f32(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const float *x, float *y, int isa) {
    FQ_ROWS(dot_q4_1_f32, nb, x)
}

void fq_gemv_q8_0_f32(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const float *x, float *y, int isa) {
    FQ_ROWS(dot_q8_0_f32, nb, x)
}

void fq_gemv_f16_f32(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t n, const float *x, float *y, int isa) {
    FQ_ROWS(dot_f16_f32, n, x)
}
