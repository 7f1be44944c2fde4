// Block-scaled 16-bit integer products (CBlockInt16Kernels.h): quantization of activations, packing of
// decoded weights, and the 6 x 16 register-tiled product with int32 sums per group of 64.
#include "CBlockInt16Kernels.h"
#include "Internal.h"
#include <math.h>

#define GROUP FQ_I16_GROUP
#define MR FQ_I16_MR
#define NR FQ_I16_NR

// ---------------------------------------------------------------------------------------------
// Shared scalar pieces

/// Scale and inverse for a group with largest magnitude `absmax`. Returns 1 for a non-finite group (a
/// NaN, or an infinity making absmax infinite): its scale is NaN and its codes must be zero, so that
/// the product is NaN, as the float product would be.
static inline int group_scale(float absmax, int nonfinite, float qmax, float *scale, float *inverse) {
    if (nonfinite || !isfinite(absmax)) { *scale = NAN; *inverse = 0.0f; return 1; }
    if (absmax == 0.0f) { *scale = 0.0f; *inverse = 0.0f; return 0; }
    *scale = absmax / qmax;
    *inverse = qmax / absmax;
    return 0;
}

static inline int16_t quantize_value(float x, float inverse) {
    return (int16_t)lrintf(x * inverse);
}

static void quantize_group_scalar(const float *x, int64_t stride, float qmax, int16_t *q, int64_t qstride, float *scale) {
    float absmax = 0.0f;
    int nonfinite = 0;
    for (int i = 0; i < GROUP; i++) {
        float v = x[i * stride];
        if (v != v) nonfinite = 1;
        float a = fabsf(v);
        if (a > absmax) absmax = a;
    }
    float inverse;
    const int bad = group_scale(absmax, nonfinite, qmax, scale, &inverse);
    for (int i = 0; i < GROUP; i++) q[i * qstride] = bad ? 0 : quantize_value(x[i * stride], inverse);
}

// ---------------------------------------------------------------------------------------------
// Scalar reference

static void quantize_rows_scalar(const float *x, int64_t ldx, int64_t k, int64_t r0, int64_t r1, int16_t *qa, float *sa) {
    const int64_t groups = k / GROUP;
    for (int64_t r = r0; r < r1; r++)
        for (int64_t g = 0; g < groups; g++)
            quantize_group_scalar(x + r * ldx + g * GROUP, 1, FQ_I16_A_MAX, qa + r * k + g * GROUP, 1, sa + r * groups + g);
}

/// Packs B from a float matrix whose element (output column j, position t) is w[j * stride_n + t * stride_k]:
/// pack_rows has (ldw, 1), pack_columns (1, ldw).
static void pack_scalar(const float *w, int64_t stride_n, int64_t stride_k, int64_t n, int64_t k, int64_t first_panel,
                        int16_t *qb, float *sb) {
    const int64_t groups = k / GROUP, panels = (n + NR - 1) / NR;
    int16_t tmp[GROUP];
    for (int64_t p = 0; p < panels; p++) {
        int16_t *dst = qb + (first_panel + p) * NR * k;
        float *scales = sb + (first_panel + p) * groups * NR;
        for (int c = 0; c < NR; c++) {
            const int64_t j = p * NR + c;
            for (int64_t g = 0; g < groups; g++) {
                if (j < n) {
                    quantize_group_scalar(w + j * stride_n + g * GROUP * stride_k, stride_k, FQ_I16_B_MAX, tmp, 1, scales + g * NR + c);
                } else {
                    memset(tmp, 0, sizeof tmp);
                    scales[g * NR + c] = 0.0f;
                }
                for (int i = 0; i < GROUP; i++) {
                    const int64_t kk = g * GROUP + i;
                    dst[(kk / 2) * 2 * NR + c * 2 + (kk & 1)] = tmp[i];
                }
            }
        }
    }
}

static void pack_rows_scalar(const float *w, int64_t ldw, int64_t n, int64_t k, int64_t first_panel, int16_t *qb, float *sb) {
    pack_scalar(w, ldw, 1, n, k, first_panel, qb, sb);
}

static void pack_columns_scalar(const float *w, int64_t ldw, int64_t k, int64_t n, int64_t first_panel, int16_t *qb, float *sb) {
    pack_scalar(w, 1, ldw, n, k, first_panel, qb, sb);
}

/// One MR x NR tile: out[r][c] = sum_g sa * sb * (integer sum), accumulated with fmaf in group order.
static void tile_scalar(const int16_t *a, const float *sa, int64_t k, const int16_t *b, const float *sb, float out[MR][NR]) {
    const int64_t groups = k / GROUP;
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NR; c++) out[r][c] = 0.0f;
    for (int64_t g = 0; g < groups; g++) {
        for (int r = 0; r < MR; r++) {
            const int16_t *ar = a + r * k + g * GROUP;
            for (int c = 0; c < NR; c++) {
                int32_t sum = 0;
                for (int i = 0; i < GROUP; i++) {
                    const int64_t kk = g * GROUP + i;
                    sum += (int32_t)ar[i] * (int32_t)b[(kk / 2) * 2 * NR + c * 2 + (kk & 1)];
                }
                const float s = sa[r * groups + g] * sb[g * NR + c];
                out[r][c] = fmaf((float)sum, s, out[r][c]);
            }
        }
    }
}

static void store_tile(const float t[MR][NR], int rows, int cols, float *c, int64_t ldc, float beta) {
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) c[r * ldc + j] = beta == 0.0f ? t[r][j] : c[r * ldc + j] + t[r][j];
}

static void gemm_scalar(const int16_t *qa, const float *sa, int64_t r0, int64_t r1, const int16_t *qb, const float *sb,
                        int64_t n, int64_t k, float *c, int64_t ldc, float beta) {
    const int64_t groups = k / GROUP, panels = (n + NR - 1) / NR;
    float t[MR][NR];
    for (int64_t m = r0; m < r1; m += MR)
        for (int64_t p = 0; p < panels; p++) {
            tile_scalar(qa + m * k, sa + m * groups, k, qb + p * NR * k, sb + p * groups * NR, t);
            const int rows = (int)(r1 - m < MR ? r1 - m : MR), cols = (int)(n - p * NR < NR ? n - p * NR : NR);
            store_tile((const float (*)[NR])t, rows, cols, c + m * ldc + p * NR, ldc, beta);
        }
}

// ---------------------------------------------------------------------------------------------
// AVX2

#if FQ_X86
/// Largest magnitude of 64 floats at x and whether any is NaN.
FQ_AVX2 static inline float absmax64_avx2(const float *x, int *nonfinite) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
    for (int i = 0; i < GROUP; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v));
    }
    *nonfinite = _mm256_movemask_ps(nan) != 0;
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/// Rounds 16 floats x * inverse to int16 (in order).
FQ_AVX2 static inline __m256i quantize16_avx2(const float *x, __m256 inverse) {
    __m256i lo = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), inverse));
    __m256i hi = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), inverse));
    return _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
}

FQ_AVX2 static void quantize_rows_avx2(const float *x, int64_t ldx, int64_t k, int64_t r0, int64_t r1, int16_t *qa, float *sa) {
    const int64_t groups = k / GROUP;
    for (int64_t r = r0; r < r1; r++)
        for (int64_t g = 0; g < groups; g++) {
            const float *src = x + r * ldx + g * GROUP;
            int16_t *dst = qa + r * k + g * GROUP;
            int nonfinite;
            float inverse, absmax = absmax64_avx2(src, &nonfinite);
            if (group_scale(absmax, nonfinite, FQ_I16_A_MAX, sa + r * groups + g, &inverse)) {
                memset(dst, 0, GROUP * sizeof(int16_t));
                continue;
            }
            const __m256 inv = _mm256_set1_ps(inverse);
            for (int i = 0; i < GROUP; i += 16) _mm256_storeu_si256((__m256i *)(dst + i), quantize16_avx2(src + i, inv));
        }
}

FQ_AVX2 static void pack_rows_avx2(const float *w, int64_t ldw, int64_t n, int64_t k, int64_t first_panel, int16_t *qb, float *sb) {
    const int64_t groups = k / GROUP, panels = (n + NR - 1) / NR;
    int16_t tmp[NR][GROUP] __attribute__((aligned(32)));
    for (int64_t p = 0; p < panels; p++) {
        int32_t *dst = (int32_t *)(qb + (first_panel + p) * NR * k);
        float *scales = sb + (first_panel + p) * groups * NR;
        for (int64_t g = 0; g < groups; g++) {
            for (int c = 0; c < NR; c++) {
                const int64_t row = p * NR + c;
                if (row >= n) { memset(tmp[c], 0, sizeof tmp[c]); scales[g * NR + c] = 0.0f; continue; }
                const float *src = w + row * ldw + g * GROUP;
                int nonfinite;
                float inverse, absmax = absmax64_avx2(src, &nonfinite);
                if (group_scale(absmax, nonfinite, FQ_I16_B_MAX, scales + g * NR + c, &inverse)) {
                    memset(tmp[c], 0, sizeof tmp[c]);
                    continue;
                }
                const __m256 inv = _mm256_set1_ps(inverse);
                for (int i = 0; i < GROUP; i += 16) _mm256_store_si256((__m256i *)(tmp[c] + i), quantize16_avx2(src + i, inv));
            }
            // Transpose the 16 rows x 32 pairs (int32) of this group into 32 pair-rows of 16 columns,
            // 8 x 8 blocks at a time.
            int32_t *out = dst + g * (GROUP / 2) * NR;
            for (int cb = 0; cb < NR; cb += 8)
                for (int jb = 0; jb < GROUP / 2; jb += 8) {
                    __m256i r[8], t[8];
                    for (int i = 0; i < 8; i++) r[i] = _mm256_load_si256((const __m256i *)((const int32_t *)tmp[cb + i] + jb));
                    for (int i = 0; i < 8; i += 2) {
                        t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
                        t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
                    }
                    __m256i u[8];
                    u[0] = _mm256_unpacklo_epi64(t[0], t[2]); u[1] = _mm256_unpackhi_epi64(t[0], t[2]);
                    u[2] = _mm256_unpacklo_epi64(t[1], t[3]); u[3] = _mm256_unpackhi_epi64(t[1], t[3]);
                    u[4] = _mm256_unpacklo_epi64(t[4], t[6]); u[5] = _mm256_unpackhi_epi64(t[4], t[6]);
                    u[6] = _mm256_unpacklo_epi64(t[5], t[7]); u[7] = _mm256_unpackhi_epi64(t[5], t[7]);
                    // u[i] holds pair jb + i (lane 0 half: i in 0..3 -> j = jb + {0,1,2,3}; upper half j + 4)
                    for (int i = 0; i < 4; i++) {
                        __m256i lo = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
                        __m256i hi = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
                        _mm256_storeu_si256((__m256i *)(out + (jb + i) * NR + cb), lo);
                        _mm256_storeu_si256((__m256i *)(out + (jb + i + 4) * NR + cb), hi);
                    }
                }
        }
    }
}

FQ_AVX2 static void pack_columns_avx2(const float *w, int64_t ldw, int64_t k, int64_t n, int64_t first_panel, int16_t *qb, float *sb) {
    const int64_t groups = k / GROUP, panels = (n + NR - 1) / NR;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i low = _mm256_set1_epi32(0xFFFF);
    for (int64_t p = 0; p < panels; p++) {
        const int64_t c0 = p * NR;
        if (c0 + NR > n) {  // a partial panel: the scalar path (bit-identical)
            pack_columns_scalar(w + c0, ldw, k, n - c0, first_panel + p, qb, sb);
            continue;
        }
        int32_t *dst = (int32_t *)(qb + (first_panel + p) * NR * k);
        float *scales = sb + (first_panel + p) * groups * NR;
        for (int64_t g = 0; g < groups; g++) {
            const float *src = w + g * GROUP * ldw + c0;
            __m256 m0 = _mm256_setzero_ps(), m1 = m0, n0 = m0, n1 = m0;
            for (int i = 0; i < GROUP; i++) {
                __m256 v0 = _mm256_loadu_ps(src + i * ldw), v1 = _mm256_loadu_ps(src + i * ldw + 8);
                n0 = _mm256_or_ps(n0, _mm256_cmp_ps(v0, v0, _CMP_UNORD_Q));
                n1 = _mm256_or_ps(n1, _mm256_cmp_ps(v1, v1, _CMP_UNORD_Q));
                m0 = _mm256_max_ps(m0, _mm256_andnot_ps(sign, v0));
                m1 = _mm256_max_ps(m1, _mm256_andnot_ps(sign, v1));
            }
            float am[NR] __attribute__((aligned(32))), inv[NR] __attribute__((aligned(32)));
            _mm256_store_ps(am, m0); _mm256_store_ps(am + 8, m1);
            const int nan0 = _mm256_movemask_ps(n0), nan1 = _mm256_movemask_ps(n1);
            int bad = 0;   // bit c: column c's group is non-finite
            for (int c = 0; c < NR; c++) {
                const int nonfinite = ((c < 8 ? nan0 >> c : nan1 >> (c - 8)) & 1);
                bad |= group_scale(am[c], nonfinite, FQ_I16_B_MAX, scales + g * NR + c, inv + c) << c;
            }
            const __m256 i0 = _mm256_load_ps(inv), i1 = _mm256_load_ps(inv + 8);
            int32_t *out = dst + g * (GROUP / 2) * NR;
            for (int j = 0; j < GROUP / 2; j++) {
                const float *e = src + 2 * j * ldw, *o = e + ldw;
                __m256i e0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(e), i0));
                __m256i e1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(e + 8), i1));
                __m256i o0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(o), i0));
                __m256i o1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(o + 8), i1));
                _mm256_storeu_si256((__m256i *)(out + j * NR), _mm256_or_si256(_mm256_and_si256(e0, low), _mm256_slli_epi32(o0, 16)));
                _mm256_storeu_si256((__m256i *)(out + j * NR + 8), _mm256_or_si256(_mm256_and_si256(e1, low), _mm256_slli_epi32(o1, 16)));
            }
            if (bad) {  // zero the codes of non-finite columns (their scale is NaN)
                int16_t *q = (int16_t *)out;
                for (int c = 0; c < NR; c++)
                    if ((bad >> c) & 1)
                        for (int j = 0; j < GROUP / 2; j++) { q[j * 2 * NR + 2 * c] = 0; q[j * 2 * NR + 2 * c + 1] = 0; }
            }
        }
    }
}

#define MADD(acc, x, y) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, y))

/// One MR x NR tile, accumulated into f (12 vectors: row r, columns 0-7 and 8-15).
FQ_AVX2 static inline void tile_avx2(const int16_t *a, const float *sa, int64_t k, const int16_t *b, const float *sb, __m256 f[12]) {
    const int64_t groups = k / GROUP;
    for (int i = 0; i < 12; i++) f[i] = _mm256_setzero_ps();
    for (int64_t g = 0; g < groups; g++) {
        const int32_t *a0 = (const int32_t *)(a + g * GROUP), *a1 = (const int32_t *)(a + k + g * GROUP),
                      *a2 = (const int32_t *)(a + 2 * k + g * GROUP), *a3 = (const int32_t *)(a + 3 * k + g * GROUP),
                      *a4 = (const int32_t *)(a + 4 * k + g * GROUP), *a5 = (const int32_t *)(a + 5 * k + g * GROUP);
        const __m256i *bp = (const __m256i *)(b + g * GROUP * NR);
        __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int j = 0; j < GROUP / 2; j++) {
            const __m256i b0 = _mm256_loadu_si256(bp + 2 * j), b1 = _mm256_loadu_si256(bp + 2 * j + 1);
            __m256i x = _mm256_set1_epi32(a0[j]); MADD(c00, x, b0); MADD(c01, x, b1);
            x = _mm256_set1_epi32(a1[j]); MADD(c10, x, b0); MADD(c11, x, b1);
            x = _mm256_set1_epi32(a2[j]); MADD(c20, x, b0); MADD(c21, x, b1);
            x = _mm256_set1_epi32(a3[j]); MADD(c30, x, b0); MADD(c31, x, b1);
            x = _mm256_set1_epi32(a4[j]); MADD(c40, x, b0); MADD(c41, x, b1);
            x = _mm256_set1_epi32(a5[j]); MADD(c50, x, b0); MADD(c51, x, b1);
        }
        const __m256 s0 = _mm256_loadu_ps(sb + g * NR), s1 = _mm256_loadu_ps(sb + g * NR + 8);
#define FOLD(r, lo, hi) { const __m256 s = _mm256_set1_ps(sa[(r) * groups + g]); \
        f[2 * (r)] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo), _mm256_mul_ps(s, s0), f[2 * (r)]); \
        f[2 * (r) + 1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(hi), _mm256_mul_ps(s, s1), f[2 * (r) + 1]); }
        FOLD(0, c00, c01) FOLD(1, c10, c11) FOLD(2, c20, c21) FOLD(3, c30, c31) FOLD(4, c40, c41) FOLD(5, c50, c51)
#undef FOLD
    }
}

FQ_AVX2 static void gemm_avx2(const int16_t *qa, const float *sa, int64_t r0, int64_t r1, const int16_t *qb, const float *sb,
                              int64_t n, int64_t k, float *c, int64_t ldc, float beta) {
    const int64_t groups = k / GROUP, panels = (n + NR - 1) / NR;
    // Blocks of panels small enough to stay in L2 while every row panel of A streams past them.
    int64_t block = (256 * 1024) / (NR * k * 2);
    if (block < 1) block = 1;
    __m256 f[12];
    for (int64_t p0 = 0; p0 < panels; p0 += block) {
        const int64_t p1 = p0 + block < panels ? p0 + block : panels;
        for (int64_t m = r0; m < r1; m += MR) {
            const int rows = (int)(r1 - m < MR ? r1 - m : MR);
            for (int64_t p = p0; p < p1; p++) {
                tile_avx2(qa + m * k, sa + m * groups, k, qb + p * NR * k, sb + p * groups * NR, f);
                float *dst = c + m * ldc + p * NR;
                if (rows == MR && p * NR + NR <= n) {
                    for (int r = 0; r < MR; r++) {
                        __m256 lo = f[2 * r], hi = f[2 * r + 1];
                        if (beta != 0.0f) {
                            lo = _mm256_add_ps(_mm256_loadu_ps(dst + r * ldc), lo);
                            hi = _mm256_add_ps(_mm256_loadu_ps(dst + r * ldc + 8), hi);
                        }
                        _mm256_storeu_ps(dst + r * ldc, lo);
                        _mm256_storeu_ps(dst + r * ldc + 8, hi);
                    }
                } else {
                    float t[MR][NR] __attribute__((aligned(32)));
                    for (int r = 0; r < MR; r++) { _mm256_store_ps(t[r], f[2 * r]); _mm256_store_ps(t[r] + 8, f[2 * r + 1]); }
                    const int cols = (int)(n - p * NR < NR ? n - p * NR : NR);
                    store_tile((const float (*)[NR])t, rows, cols, dst, ldc, beta);
                }
            }
        }
    }
}
#endif

// ---------------------------------------------------------------------------------------------
// Dispatch

void fq_i16_quantize_rows(const float *x, int64_t ldx, int64_t k, int64_t row_begin, int64_t row_end, int16_t *qa, float *sa, int isa) {
#if FQ_X86
    if (isa == FQ_ISA_AVX2) { quantize_rows_avx2(x, ldx, k, row_begin, row_end, qa, sa); return; }
#endif
    quantize_rows_scalar(x, ldx, k, row_begin, row_end, qa, sa);
}

void fq_i16_pack_rows(const float *w, int64_t ldw, int64_t n, int64_t k, int64_t first_panel, int16_t *qb, float *sb, int isa) {
#if FQ_X86
    if (isa == FQ_ISA_AVX2) { pack_rows_avx2(w, ldw, n, k, first_panel, qb, sb); return; }
#endif
    pack_rows_scalar(w, ldw, n, k, first_panel, qb, sb);
}

void fq_i16_pack_columns(const float *w, int64_t ldw, int64_t k, int64_t n, int64_t first_panel, int16_t *qb, float *sb, int isa) {
#if FQ_X86
    if (isa == FQ_ISA_AVX2) { pack_columns_avx2(w, ldw, k, n, first_panel, qb, sb); return; }
#endif
    pack_columns_scalar(w, ldw, k, n, first_panel, qb, sb);
}

void fq_i16_gemm(const int16_t *qa, const float *sa, int64_t row_begin, int64_t row_end, const int16_t *qb, const float *sb,
                 int64_t n, int64_t k, float *c, int64_t ldc, float beta, int isa) {
#if FQ_X86
    if (isa == FQ_ISA_AVX2) { gemm_avx2(qa, sa, row_begin, row_end, qb, sb, n, k, c, ldc, beta); return; }
#endif
    gemm_scalar(qa, sa, row_begin, row_end, qb, sb, n, k, c, ldc, beta);
}
