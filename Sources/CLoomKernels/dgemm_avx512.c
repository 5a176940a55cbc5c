/* dgemm_avx512.c — level 2 double GEMM: AVX-512F, 14×16 register block (28 zmm accumulators),
 * B packed in 16-wide panels. Canonical order and exactness: see gemm_simd_tmpl.h. */
#pragma clang fp contract(off)
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include "gemm_internal.h"

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)

#define T double
#define V __m512d
#define VM __mmask8
#define LANES 8
#define NV 2
#define MR 14
#define WIDE_MR 3
#define KC 256
#define NC 256
#define FN loom_dgemm_avx512
#define LOOM_FALLBACK loom_dgemm_scalar
#define V_ZERO() _mm512_setzero_pd()
#define V_LOAD(p) _mm512_loadu_pd(p)
#define V_STORE(p, v) _mm512_storeu_pd((p), (v))
#define V_LOADM(m, p) _mm512_maskz_loadu_pd((m), (p))
#define V_STOREM(p, m, v) _mm512_mask_storeu_pd((p), (m), (v))
#define V_FMA(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define V_SET1(x) _mm512_set1_pd(x)
#define V_MASK(n) ((__mmask8)((1u << (n)) - 1u))

#include "gemm_simd_tmpl.h"

#pragma clang attribute pop
#endif
