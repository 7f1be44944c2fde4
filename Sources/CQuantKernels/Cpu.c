// Processor feature detection and scalar half-float decoding.
#include "Internal.h"

int fq_cpu_has_avx2(void) {
#if FQ_X86 && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

float fq_half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t em = h & 0x7FFFu;
    uint32_t bits;
    if (em >= 0x7C00u) {
        // Infinity or NaN: all-ones exponent, mantissa carried over.
        bits = (em << 13) | 0x7F800000u;
    } else {
        // Normal and subnormal halves: place the bits in a float and rescale by 2^112 (exact).
        float f;
        uint32_t t = em << 13;
        memcpy(&f, &t, 4);
        f *= 0x1p112f;
        memcpy(&bits, &f, 4);
    }
    bits |= sign;
    float out;
    memcpy(&out, &bits, 4);
    return out;
}
