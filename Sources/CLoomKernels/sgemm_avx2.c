/* sgemm_avx2.c — level 1 float GEMM: AVX2+FMA, 6×16 register block (12 ymm accumulators).
 * Canonical order and exactness: see gemm_simd_tmpl.h and loom_kernels.h. */
#pragma clang fp contract(off)
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include "gemm_internal.h"

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#define T float
#define V __m256
#define VM __m256i
#define LANES 8
#define NV 2
#define MR 6
#define WIDE_MR 1
#define KC 256
#define NC 512
#define FN loom_sgemm_avx2
#define LOOM_FALLBACK loom_sgemm_scalar
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps((p), (v))
#define V_LOADM(m, p) _mm256_maskload_ps((p), (m))
#define V_STOREM(p, m, v) _mm256_maskstore_ps((p), (m), (v))
#define V_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define V_SET1(x) _mm256_set1_ps(x)
#define V_MASK(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))

/* Packs B stored transposed (rsB == 1, column j contiguous in k) into dst[k*NRW + j]: 8×8 tiles
 * transposed in registers (unpack, shuffle, 128-bit permute). Pure data movement: no arithmetic
 * touches the values. Columns nr..<16 were zeroed by the caller; a partial tile writes zeros there. */
#define LOOM_HAVE_PACK_B_T
static void loom_pack_b_t(const float *B, int64_t csB, int64_t kc, int nr, float *restrict dst) {
    for (int j0 = 0; j0 < nr; j0 += 8) {
        int nj = nr - j0 < 8 ? nr - j0 : 8;
        for (int64_t k0 = 0; k0 < kc; k0 += 8) {
            int nk = kc - k0 < 8 ? (int)(kc - k0) : 8;
            __m256i km = V_MASK(nk);
            __m256 r[8];
#pragma clang loop unroll(full)
            for (int j = 0; j < 8; j++)
                r[j] = j < nj ? (nk == 8 ? _mm256_loadu_ps(B + (j0 + j) * csB + k0) : _mm256_maskload_ps(B + (j0 + j) * csB + k0, km))
                              : _mm256_setzero_ps();
            __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
            __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
            __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
            __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
            __m256 o[8] = {
                _mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
#pragma clang loop unroll(full)
            for (int i = 0; i < 8; i++)
                if (i < nk) _mm256_storeu_ps(dst + (k0 + i) * (NV * LANES) + j0, o[i]);
        }
    }
}

#include "gemm_simd_tmpl.h"

#pragma clang attribute pop
#endif
