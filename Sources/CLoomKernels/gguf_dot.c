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
#include <string.h>

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

/* ---- Eight rows at a time: one SIMD lane per weight row -------------------------------------
 * Lane j of `acc` is row r+j's chain, so each lane performs exactly the canonical sequence of
 * fused multiply-adds of its row (block order, one rounding each); the eight exact block sums are
 * gathered into one vector by a tree of horizontal adds (integers: any order is exact). A tile of
 * `tokens` activation rows reuses the eight weight rows from L1, so prefill reads each weight
 * once per tile instead of once per token. */

/* Lane j = the sum of the eight i32 lanes of s_j. */
__attribute__((target("avx2,fma,f16c")))
static inline __m256i sum8x8(__m256i s0, __m256i s1, __m256i s2, __m256i s3,
                             __m256i s4, __m256i s5, __m256i s6, __m256i s7) {
    __m256i c03 = _mm256_hadd_epi32(_mm256_hadd_epi32(s0, s1), _mm256_hadd_epi32(s2, s3));
    __m256i c47 = _mm256_hadd_epi32(_mm256_hadd_epi32(s4, s5), _mm256_hadd_epi32(s6, s7));
    return _mm256_add_epi32(_mm256_permute2x128_si256(c03, c47, 0x20), _mm256_permute2x128_si256(c03, c47, 0x31));
}

/* The 32-bit words at p + j·rb (j = 0…7), little-endian (plain loads: faster than vpgatherdd here). */
__attribute__((target("avx2,fma,f16c")))
static inline __m256i words8(const uint8_t *p, int64_t rb) {
    int32_t w[8];
    for (int j = 0; j < 8; j++) memcpy(&w[j], p + j * rb, 4);
    return _mm256_setr_epi32(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
}

/* During block b of nb, the b-th share of the next group's bytes [next, next + bytes) into cache:
 * the eight rows of a group are one contiguous run, read while the current group computes.
 * (Prefetching past the matrix is harmless: prefetches never fault.) */
__attribute__((target("avx2,fma,f16c")))
static inline void prefetch_next(const uint8_t *next, int64_t bytes, int64_t b, int64_t nb) {
    int64_t lines = (bytes + 63) / 64, from = lines * b / nb, to = lines * (b + 1) / nb;
    for (int64_t l = from; l < to; l++) _mm_prefetch((const char *)(next + 64 * l), _MM_HINT_T0);
}

/* Q4_1 codes of one block as 32 unsigned bytes: low nibbles (values 0–15), then high nibbles. */
__attribute__((target("avx2,fma,f16c")))
static inline __m256i q4_codes(const uint8_t *qs) {
    __m128i x = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(x, 4), x), _mm256_set1_epi8(0x0f));
}

__attribute__((target("avx2,fma,f16c")))
static inline __m256i q4_dot(const uint8_t *qs, __m256i a) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(q4_codes(qs), a), _mm256_set1_epi16(1));
}

__attribute__((target("avx2,fma,f16c")))
static inline __m256i q8_dot(const uint8_t *qs, __m256i a) {
    __m256i q = _mm256_loadu_si256((const __m256i *)qs);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(a, q)), _mm256_set1_epi16(1));
}

/* Rows r..r+8 of Q4_1 against `tokens` activation rows; y[t·ldy + r + j]. */
__attribute__((target("avx2,fma,f16c")))
static void q4_1_tile8(const uint8_t *w, int64_t rb, int64_t r, int64_t nb, int64_t tokens,
                       const int8_t *qa, const float *da, const int32_t *sa, float *y, int64_t ldy) {
    const uint8_t *p = w + r * rb;
    /* d (low half) and m (high half) of each lane's block: bytes 0,1 and 2,3 of the gathered word. */
    const __m256i split = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
                                           0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    for (int64_t t = 0; t < tokens; t++) {
        const int8_t *qt = qa + t * nb * 32;
        const float *dt = da + t * nb;
        const int32_t *st = sa + t * nb;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = p + 20 * b;
            if (t == 0) prefetch_next(p + 8 * rb, 8 * rb, b, nb);
            __m256i a = _mm256_loadu_si256((const __m256i *)(qt + 32 * b));
            __m256i isum = sum8x8(q4_dot(blk + 4, a), q4_dot(blk + rb + 4, a), q4_dot(blk + 2 * rb + 4, a),
                                  q4_dot(blk + 3 * rb + 4, a), q4_dot(blk + 4 * rb + 4, a), q4_dot(blk + 5 * rb + 4, a),
                                  q4_dot(blk + 6 * rb + 4, a), q4_dot(blk + 7 * rb + 4, a));
            __m256i dm = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(words8(blk, rb), split), 0xd8);
            __m256 d = _mm256_cvtph_ps(_mm256_castsi256_si128(dm));
            __m256 m = _mm256_cvtph_ps(_mm256_extracti128_si256(dm, 1));
            __m256 x = _mm256_set1_ps(dt[b]);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, x), acc);
            acc = _mm256_fmadd_ps(_mm256_set1_ps((float)st[b]), _mm256_mul_ps(m, x), acc);
        }
        _mm256_storeu_ps(y + t * ldy + r, acc);
    }
}

/* Rows r..r+8 of Q8_0 against `tokens` activation rows. */
__attribute__((target("avx2,fma,f16c")))
static void q8_0_tile8(const uint8_t *w, int64_t rb, int64_t r, int64_t nb, int64_t tokens,
                       const int8_t *qa, const float *da, float *y, int64_t ldy) {
    const uint8_t *p = w + r * rb;
    const __m256i low16 = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,
                                           0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
    for (int64_t t = 0; t < tokens; t++) {
        const int8_t *qt = qa + t * nb * 32;
        const float *dt = da + t * nb;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = p + 34 * b;
            if (t == 0) prefetch_next(p + 8 * rb, 8 * rb, b, nb);
            __m256i a = _mm256_loadu_si256((const __m256i *)(qt + 32 * b));
            __m256i isum = sum8x8(q8_dot(blk + 2, a), q8_dot(blk + rb + 2, a), q8_dot(blk + 2 * rb + 2, a),
                                  q8_dot(blk + 3 * rb + 2, a), q8_dot(blk + 4 * rb + 2, a), q8_dot(blk + 5 * rb + 2, a),
                                  q8_dot(blk + 6 * rb + 2, a), q8_dot(blk + 7 * rb + 2, a));
            __m256i dd = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(words8(blk, rb), low16), 0x08);
            __m256 d = _mm256_cvtph_ps(_mm256_castsi256_si128(dd));
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, _mm256_set1_ps(dt[b])), acc);
        }
        _mm256_storeu_ps(y + t * ldy + r, acc);
    }
}

/* Rows r0..<r1 against `tokens` activation rows: groups of eight rows, then single rows. */
__attribute__((target("avx2,fma,f16c")))
static void tile_rows(uint32_t type, const uint8_t *w, int64_t rb, int64_t r0, int64_t r1, int64_t nb, int64_t tokens,
                      const int8_t *qa, const float *da, const int32_t *sa, float *y, int64_t ldy) {
    int64_t r = r0;
    for (; r + 8 <= r1; r += 8) {
        if (type == 3) q4_1_tile8(w, rb, r, nb, tokens, qa, da, sa, y, ldy);
        else q8_0_tile8(w, rb, r, nb, tokens, qa, da, y, ldy);
    }
    if (r == r1) return;
    for (int64_t t = 0; t < tokens; t++) {
        const int8_t *qt = qa + t * nb * 32;
        const float *dt = da + t * nb;
        const int32_t *st = sa + t * nb;
        if (type == 3) q4_1_rows(w, rb, r, r1, nb, qt, dt, st, y + t * ldy);
        else q8_0_rows(w, rb, r, r1, nb, qt, dt, y + t * ldy);
    }
}
#endif

int loom_gguf_dot_tile(uint32_t type, const void *weights, int64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                       int64_t tokens, const int8_t *qa, const float *da, const int32_t *sa, float *y, int64_t ldy) {
#if defined(__x86_64__)
    if (loom_active_cpu_level() < 1 || cols % 32 != 0 || !__builtin_cpu_supports("f16c")) return 0;
    if (type != 3 && type != 8) return 0;                       /* Q4_1, Q8_0 */
    if (r1 <= r0 || tokens <= 0) return 1;
    tile_rows(type, (const uint8_t *)weights, row_bytes, r0, r1, cols / 32, tokens, qa, da, sa, y, ldy);
    return 1;
#else
    (void)type; (void)weights; (void)row_bytes; (void)r0; (void)r1; (void)cols; (void)tokens;
    (void)qa; (void)da; (void)sa; (void)y; (void)ldy;
    return 0;
#endif
}

/* Loom's 8-bit activation blocks (GGUFQ8Activations in GGUFQuantizedMatrix.swift), bit for bit:
 * per block of 32, amax = max |x|; a non-finite value gives scale NaN, codes 0, sum 0; else
 * d = amax / 127 (one division); d == 0 gives scale 0, codes 0, sum 0; else
 * code = clamp(roundeven(x / d), −127, 127) and sum = Σ code. */
#define Q8_QUANTIZE_BODY \
 \
    for (int64_t b = 0; b < n / 32; b++) { \
        const float *v = x + 32 * b; \
        int8_t *c = codes + 32 * b; \
        float amax = 0.0f; \
        int finite = 1; \
        for (int i = 0; i < 32; i++) { \
            float a = fabsf(v[i]); \
            finite &= a <= 3.40282347e38f;                       /* false for ±inf and NaN */ \
            amax = a > amax ? a : amax; \
        } \
        scales[b] = 0.0f; \
        sums[b] = 0; \
        for (int i = 0; i < 32; i++) c[i] = 0; \
        if (!finite) { scales[b] = __builtin_nanf(""); continue; } \
        float d = amax / 127.0f; \
        if (d == 0.0f) continue; \
        scales[b] = d; \
        int32_t s = 0; \
        for (int i = 0; i < 32; i++) { \
            float q = __builtin_roundevenf(v[i] / d); \
            q = q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q); \
            c[i] = (int8_t)q; \
            s += c[i]; \
        } \
        sums[b] = s; \
    }

#if defined(__x86_64__)
__attribute__((target("avx2,fma,f16c")))
static void q8_quantize_avx2(const float *x, int64_t n, int8_t *codes, float *scales, int32_t *sums) { Q8_QUANTIZE_BODY }
#endif
static void q8_quantize_portable(const float *x, int64_t n, int8_t *codes, float *scales, int32_t *sums) { Q8_QUANTIZE_BODY }

void loom_q8_quantize(const float *x, int64_t n, int8_t *codes, float *scales, int32_t *sums) {
#if defined(__x86_64__)
    if (loom_active_cpu_level() >= 1) { q8_quantize_avx2(x, n, codes, scales, sums); return; }
#endif
    q8_quantize_portable(x, n, codes, scales, sums);
}
