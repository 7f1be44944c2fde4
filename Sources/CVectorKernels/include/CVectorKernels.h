// Elementwise float kernels of the training path that Swift cannot vectorise for AVX2 in a
// portable build (the package targets baseline x86-64): each entry point checks the processor once
// and runs an AVX2 loop or the portable C loop, which give identical results.
#ifndef CVECTORKERNELS_H
#define CVECTORKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the AVX2 loops run on this processor, else 0.
int fv_has_avx2(void);

/// The dropout hash of element index i under keys (k0, k1): two rounds of a bijective 32-bit mixer,
/// mix(mix(i + k0) ^ k1). Element i survives when the hash is at or above the threshold.
uint32_t fv_dropout_hash(uint32_t i, uint32_t k0, uint32_t k1);

/// out[j] = inp[j] * scale where hash(first + j) >= threshold, else 0, for j in [0, count).
void fv_dropout_forward(float *out, const float *inp, int64_t count, int64_t first, uint32_t k0, uint32_t k1,
                        uint32_t threshold, float scale);

/// dinp[j] += dout[j] * scale where hash(first + j) >= threshold, for j in [0, count).
void fv_dropout_backward_accumulate(float *dinp, const float *dout, int64_t count, int64_t first, uint32_t k0, uint32_t k1,
                                    uint32_t threshold, float scale);

#ifdef __cplusplus
}
#endif

#endif
