/* gguf_dot.c — integer dot products of GGUF weight rows (Q4_1, Q8_0) with Loom's Q8 activation
 * blocks, vectorised with AVX2. The canonical definition is GGUFDot.row in
 * Sources/LoomCore/Formats/GGUFQuantizedMatrix.swift (docs/gguf.md): per block, the exact
 * integer sum of code products (any order: integers), then in block order
 *     Q8_0: acc = fma((float)isum, d*da, acc)
 *     Q4_1: acc = fma((float)isum, d*da, acc); acc = fma((float)asum, m*da, acc)
 * with d, m the block's f16 scale/min converted exactly (F16C), products rounded once (no contraction).
 */
#pragma clang fp contract(off)

#include "loom_kernels.h"
#include <math.h>

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

#if defined(__x86_64__)
#include <immintrin.h>

/* f16 → f32 with the F16C instruction (exact; NaN payloads as GGUFBlocks.halfToFloat). */
__attribute__((target("avx2,fma,f16c")))
static inline float h2f(const uint8_t *p) { return _cvtsh_ss(le16(p)); }

__attribute__((target("avx2,fma,f16c")))
static int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2,fma,f16c")))
static inline int32_t q4_1_isum(const uint8_t *blk, const int8_t *qa) {
    const __m256i ones = _mm256_set1_epi16(1);
    const __m128i low = _mm_set1_epi8(0x0f);
    __m128i x = _mm_loadu_si128((const __m128i *)(blk + 4));
    __m128i lo = _mm_and_si128(x, low), hi = _mm_and_si128(_mm_srli_epi16(x, 4), low);
    __m256i q = _mm256_set_m128i(hi, lo);
    __m256i a = _mm256_loadu_si256((const __m256i *)qa);
    return hsum_i32(_mm256_madd_epi16(_mm256_maddubs_epi16(q, a), ones));
}

/* Four rows at a time (four independent fma chains, each in block order) hide the fma latency. */
__attribute__((target("avx2,fma,f16c")))
static void q4_1_rows(const uint8_t *w, int64_t rb, int64_t r0, int64_t r1, int64_t nb,
                      const int8_t *qa, const float *da, const int32_t *sa, float *y) {
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint8_t *p0 = w + r * rb, *p1 = p0 + rb, *p2 = p1 + rb, *p3 = p2 + rb;
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            const int8_t *q = qa + 32 * b;
            const uint8_t *b0 = p0 + 20 * b, *b1 = p1 + 20 * b, *b2 = p2 + 20 * b, *b3 = p3 + 20 * b;
            float x = da[b], s = (float)sa[b];
            a0 = fmaf((float)q4_1_isum(b0, q), h2f(b0) * x, a0);
            a1 = fmaf((float)q4_1_isum(b1, q), h2f(b1) * x, a1);
            a2 = fmaf((float)q4_1_isum(b2, q), h2f(b2) * x, a2);
            a3 = fmaf((float)q4_1_isum(b3, q), h2f(b3) * x, a3);
            a0 = fmaf(s, h2f(b0 + 2) * x, a0);
            a1 = fmaf(s, h2f(b1 + 2) * x, a1);
            a2 = fmaf(s, h2f(b2 + 2) * x, a2);
            a3 = fmaf(s, h2f(b3 + 2) * x, a3);
        }
        y[r] = a0; y[r + 1] = a1; y[r + 2] = a2; y[r + 3] = a3;
    }
    for (; r < r1; r++) {
        const uint8_t *p = w + r * rb;
        float acc = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = p + 20 * b;
            acc = fmaf((float)q4_1_isum(blk, qa + 32 * b), h2f(blk) * da[b], acc);
            acc = fmaf((float)sa[b], h2f(blk + 2) * da[b], acc);
        }
        y[r] = acc;
    }
}

__attribute__((target("avx2,fma,f16c")))
static void q8_0_rows(const uint8_t *w, int64_t rb, int64_t r0, int64_t r1, int64_t nb,
                      const int8_t *qa, const float *da, float *y) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *p = w + r * rb;
        float acc = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = p + 34 * b;
            __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 2));
            __m256i a = _mm256_loadu_si256((const __m256i *)(qa + 32 * b));
            /* |q| (as u8, 128 for −128) times a·sign(q): each pair sums to at most 2·128·127. */
            __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(a, q));
            int32_t isum = hsum_i32(_mm256_madd_epi16(p16, ones));
            float dd = h2f(blk) * da[b];
            acc = fmaf((float)isum, dd, acc);
        }
        y[r] = acc;
    }
}
#endif

int loom_gguf_dot_rows(uint32_t type, const void *weights, int64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                       const int8_t *qa, const float *da, const int32_t *sa, float *y) {
#if defined(__x86_64__)
    if (loom_active_cpu_level() < 1 || cols % 32 != 0 || !__builtin_cpu_supports("f16c")) return 0;
    const uint8_t *w = (const uint8_t *)weights;
    switch (type) {
    case 3: q4_1_rows(w, row_bytes, r0, r1, cols / 32, qa, da, sa, y); return 1;   /* Q4_1 */
    case 8: q8_0_rows(w, row_bytes, r0, r1, cols / 32, qa, da, y); return 1;       /* Q8_0 */
    default: return 0;
    }
#else
    (void)type; (void)weights; (void)row_bytes; (void)r0; (void)r1; (void)cols; (void)qa; (void)da; (void)sa; (void)y;
    return 0;
#endif
}
