/* sgemm_avx512.c — level 2 float GEMM: AVX-512F, 14×32 register block (28 zmm accumulators),
 * B packed in 32-wide panels, A broadcast from a packed 14-row micro-panel.
 * Canonical order and exactness: see gemm_simd_tmpl.h and loom_kernels.h. */
#pragma clang fp contract(off)
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include "gemm_internal.h"

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)

#define T float
#define V __m512
#define VM __mmask16
#define LANES 16
#define NV 2
#define MR 14
#define WIDE_MR 3
#define KC 256
#define NC 512
#define FN loom_sgemm_avx512
#define LOOM_FALLBACK loom_sgemm_scalar
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps((p), (v))
#define V_LOADM(m, p) _mm512_maskz_loadu_ps((m), (p))
#define V_STOREM(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define V_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define V_SET1(x) _mm512_set1_ps(x)
#define V_MASK(n) ((__mmask16)((1u << (n)) - 1u))

/* Packs B stored transposed (rsB == 1, column j contiguous in k) into dst[k*32 + j]: 16×16
 * tiles are transposed in registers (4 butterfly stages, each swapping one bit of the row and
 * lane index). Pure data movement: no arithmetic touches the values. */
#define LOOM_HAVE_PACK_B_T
static void loom_pack_b_t(const float *B, int64_t csB, int64_t kc, int nr, float *restrict dst) {
    __m512i lo[4], hi[4];
    for (int s = 0; s < 4; s++) {
        int d = 8 >> s;
        int32_t l[16], h[16];
        for (int i = 0; i < 16; i++) {
            l[i] = (i & d) ? 16 + i - d : i;
            h[i] = (i & d) ? 16 + i : i + d;
        }
        lo[s] = _mm512_loadu_si512(l);
        hi[s] = _mm512_loadu_si512(h);
    }
    for (int j0 = 0; j0 < nr; j0 += 16) {
        int nj = nr - j0 < 16 ? nr - j0 : 16;
        for (int64_t k0 = 0; k0 < kc; k0 += 16) {
            int nk = kc - k0 < 16 ? (int)(kc - k0) : 16;
            __mmask16 km = (__mmask16)((1u << nk) - 1u);
            __m512 t[16];
#pragma clang loop unroll(full)
            for (int j = 0; j < 16; j++)
                t[j] = j < nj ? _mm512_maskz_loadu_ps(km, B + (j0 + j) * csB + k0) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
            for (int s = 0; s < 4; s++) {
#pragma clang loop unroll(full)
                for (int i = 0; i < 16; i++) {
                    const int d = 8 >> s;
                    if (!(i & d)) {
                        __m512 a = t[i], b = t[i + d];
                        t[i] = _mm512_permutex2var_ps(a, lo[s], b);
                        t[i + d] = _mm512_permutex2var_ps(a, hi[s], b);
                    }
                }
            }
            if (nk == 16) {
#pragma clang loop unroll(full)
                for (int k = 0; k < 16; k++) _mm512_storeu_ps(dst + (k0 + k) * 32 + j0, t[k]);
            } else {
                for (int k = 0; k < nk; k++) _mm512_storeu_ps(dst + (k0 + k) * 32 + j0, t[k]);
            }
        }
    }
}

#include "gemm_simd_tmpl.h"

#pragma clang attribute pop
#endif
