// Matrix-vector products of quantized weight rows with several Q8 activation vectors (one per
// sequence of a batch, or per position of several prompts). Each weight row is decoded once per
// block and multiplied with up to eight vectors; rows are taken in chunks that stay in L2 while
// every group of eight vectors reads them, so the matrix is streamed from memory once per call.
//
// Every (row, vector) value takes exactly the operations of the four-row loop of Gemv.c: per block
// the integer dot product, its conversion to float, one fused multiply-add with the product of the
// two block scales (and for Q4_1 one fused multiply-add of the weight block's min with the
// activation block's sum), then the same horizontal sum. So the results are bit-identical to
// fq_gemv_*_q8 over the same row range; the rows after the range's last group of four, and the
// scalar ISA, go through fq_gemv_*_q8 itself.
#include "Internal.h"

enum { KIND_Q4_0 = 0, KIND_Q4_1 = 1, KIND_Q8_0 = 2 };

typedef void (*fq_gemv_q8_fn)(const uint8_t *, int64_t, int64_t, int64_t, const int8_t *, const float *, const float *,
                              float *, int);

/// The one-vector kernel of Gemv.c, per vector of the batch.
static void gemm_by_vectors(fq_gemv_q8_fn gemv, const uint8_t *w, int64_t stride, int64_t rows, int64_t nb, const int8_t *xq,
                            const float *xd, const float *xs, int64_t vectors, float *y, int64_t ldy, int isa) {
    for (int64_t v = 0; v < vectors; v++)
        gemv(w, stride, rows, nb, xq + v * 32 * nb, xd + v * nb, xs + v * nb, y + v * ldy, isa);
}

#if FQ_X86
/// Weight bytes of the rows multiplied with all vectors before moving on (kept in L2).
#define FQ_BATCH_CHUNK_BYTES (96 * 1024)

/// Sums of the eight lanes of each of a0..a3 (Gemv.c's hsum4: the same order of additions).
FQ_AVX2 static inline __m128 batch_hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

/// Weight row `w` times vectors 0 ..< NV (8 or 4) of the batch starting at xq (vector v's values
/// at xq + v * xstride); block scales and sums transposed: block b of vector v at b * ld_t + v.
/// Results to y[v * ldy].
FQ_AVX2 static inline __attribute__((always_inline)) void
row_times_vectors(const int kind, const int block, const int NV, const uint8_t *w, int64_t nb, const int8_t *xq, int64_t xstride,
                  const float *xd_t, const float *xs_t, int64_t ld_t, float *y, int64_t ldy) {
    const __m256i ones = _mm256_set1_epi16(1), mask = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8);
    const __m256i shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
    __m256 acc[8];
    __m256 mins = _mm256_setzero_ps();
    for (int v = 0; v < NV; v++) acc[v] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = w + block * b;
        __m256i q;
        if (kind == KIND_Q8_0) {
            q = _mm256_loadu_si256((const __m256i *)(blk + 2));
        } else {
            // the 32 nibbles as bytes, low nibbles first (Gemv.c's unpack_nibbles_v)
            const __m256i packed = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(blk + (kind == KIND_Q4_1 ? 4 : 2))));
            q = _mm256_and_si256(_mm256_srlv_epi32(packed, shift), mask);
            if (kind == KIND_Q4_0) q = _mm256_sub_epi8(q, eight);
        }
        const __m256 d = _mm256_set1_ps(fq_half_avx2(blk));
        if (kind == KIND_Q4_1) {
            const __m256 m = _mm256_set1_ps(fq_half_avx2(blk + 2));
            if (NV == 8) mins = _mm256_fmadd_ps(m, _mm256_loadu_ps(xs_t + b * ld_t), mins);
            else mins = _mm256_castps128_ps256(_mm_fmadd_ps(_mm256_castps256_ps128(m), _mm_loadu_ps(xs_t + b * ld_t), _mm256_castps256_ps128(mins)));
        }
        // the sign trick of Gemv.c's dot_i8 for signed weights: |q| times y with q's signs
        const __m256i qa = kind == KIND_Q4_1 ? q : _mm256_sign_epi8(q, q);
        for (int v = 0; v < NV; v++) {
            const __m256i yv = _mm256_loadu_si256((const __m256i *)(xq + v * xstride + 32 * b));
            const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(qa, kind == KIND_Q4_1 ? yv : _mm256_sign_epi8(yv, q)), ones);
            acc[v] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_broadcast_ss(xd_t + b * ld_t + v)), _mm256_cvtepi32_ps(p), acc[v]);
        }
    }
    float m8[8];
    _mm256_storeu_ps(m8, mins);
    for (int v = 0; v < NV; v += 4) {
        __m128 total = batch_hsum4(acc[v], acc[v + 1], acc[v + 2], acc[v + 3]);
        if (kind == KIND_Q4_1) total = _mm_add_ps(total, _mm_loadu_ps(m8 + v));
        float out[4];
        _mm_storeu_ps(out, total);
        for (int k = 0; k < 4; k++) y[(v + k) * ldy] = out[k];
    }
}

/// The rows of whole groups of four in chunks; per chunk, all vectors (eight, then four at a time,
/// the rest one by one); the remaining rows through the one-vector kernel.
FQ_AVX2 static inline __attribute__((always_inline)) void
gemm_avx2(const int kind, const int block, fq_gemv_q8_fn gemv, const uint8_t *w, int64_t stride, int64_t rows, int64_t nb,
          const int8_t *xq, const float *xd, const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t,
          int64_t vectors, float *y, int64_t ldy) {
    const int64_t grouped = rows / 4 * 4, xstride = 32 * nb;
    int64_t chunk = FQ_BATCH_CHUNK_BYTES / stride / 4 * 4;
    if (chunk < 4) chunk = 4;
    for (int64_t r0 = 0; r0 < grouped; r0 += chunk) {
        const int64_t r1 = r0 + chunk < grouped ? r0 + chunk : grouped;
        int64_t v = 0;
        for (; v + 8 <= vectors; v += 8)
            for (int64_t r = r0; r < r1; r++)
                row_times_vectors(kind, block, 8, w + r * stride, nb, xq + v * xstride, xstride, xd_t + v, xs_t + v, ld_t, y + v * ldy + r, ldy);
        for (; v + 4 <= vectors; v += 4)
            for (int64_t r = r0; r < r1; r++)
                row_times_vectors(kind, block, 4, w + r * stride, nb, xq + v * xstride, xstride, xd_t + v, xs_t + v, ld_t, y + v * ldy + r, ldy);
        // the last one to three vectors: the four-row loop of Gemv.c itself (faster for one vector)
        if (v < vectors)
            gemm_by_vectors(gemv, w + r0 * stride, stride, r1 - r0, nb, xq + v * xstride, xd + v * nb, xs + v * nb, vectors - v,
                            y + v * ldy + r0, ldy, FQ_ISA_AVX2);
    }
    if (grouped < rows)
        gemm_by_vectors(gemv, w + grouped * stride, stride, rows - grouped, nb, xq, xd, xs, vectors, y + grouped, ldy, FQ_ISA_AVX2);
}

FQ_AVX2 static void gemm_q4_0_avx2(const uint8_t *w, int64_t stride, int64_t rows, int64_t nb, const int8_t *xq, const float *xd,
                                   const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t, int64_t vectors, float *y, int64_t ldy) {
    gemm_avx2(KIND_Q4_0, 18, fq_gemv_q4_0_q8, w, stride, rows, nb, xq, xd, xs, xd_t, xs_t, ld_t, vectors, y, ldy);
}

FQ_AVX2 static void gemm_q4_1_avx2(const uint8_t *w, int64_t stride, int64_t rows, int64_t nb, const int8_t *xq, const float *xd,
                                   const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t, int64_t vectors, float *y, int64_t ldy) {
    gemm_avx2(KIND_Q4_1, 20, fq_gemv_q4_1_q8, w, stride, rows, nb, xq, xd, xs, xd_t, xs_t, ld_t, vectors, y, ldy);
}

FQ_AVX2 static void gemm_q8_0_avx2(const uint8_t *w, int64_t stride, int64_t rows, int64_t nb, const int8_t *xq, const float *xd,
                                   const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t, int64_t vectors, float *y, int64_t ldy) {
    gemm_avx2(KIND_Q8_0, 34, fq_gemv_q8_0_q8, w, stride, rows, nb, xq, xd, xs, xd_t, xs_t, ld_t, vectors, y, ldy);
}
#define FQ_BATCH_AVX2(call) if (isa == FQ_ISA_AVX2) { call; return; }
#else
#define FQ_BATCH_AVX2(call)
#endif

void fq_gemm_q4_0_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const int8_t *xq, const float *xd,
                     const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t, int64_t vectors, float *y, int64_t ldy, int isa) {
    FQ_BATCH_AVX2(gemm_q4_0_avx2(w, row_stride, rows, nb, xq, xd, xs, xd_t, xs_t, ld_t, vectors, y, ldy))
    (void)xd_t; (void)xs_t; (void)ld_t;
    gemm_by_vectors(fq_gemv_q4_0_q8, w, row_stride, rows, nb, xq, xd, xs, vectors, y, ldy, isa);
}

void fq_gemm_q4_1_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const int8_t *xq, const float *xd,
                     const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t, int64_t vectors, float *y, int64_t ldy, int isa) {
    FQ_BATCH_AVX2(gemm_q4_1_avx2(w, row_stride, rows, nb, xq, xd, xs, xd_t, xs_t, ld_t, vectors, y, ldy))
    (void)xd_t; (void)xs_t; (void)ld_t;
    gemm_by_vectors(fq_gemv_q4_1_q8, w, row_stride, rows, nb, xq, xd, xs, vectors, y, ldy, isa);
}

void fq_gemm_q8_0_q8(const uint8_t *w, int64_t row_stride, int64_t rows, int64_t nb, const int8_t *xq, const float *xd,
                     const float *xs, const float *xd_t, const float *xs_t, int64_t ld_t, int64_t vectors, float *y, int64_t ldy, int isa) {
    FQ_BATCH_AVX2(gemm_q8_0_avx2(w, row_stride, rows, nb, xq, xd, xs, xd_t, xs_t, ld_t, vectors, y, ldy))
    (void)xd_t; (void)xs_t; (void)ld_t;
    gemm_by_vectors(fq_gemv_q8_0_q8, w, row_stride, rows, nb, xq, xd, xs, vectors, y, ldy, isa);
}
