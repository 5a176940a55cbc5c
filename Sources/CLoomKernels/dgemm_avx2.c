/* dgemm_avx2.c — level 1 double GEMM: AVX2+FMA, 6×8 register block (12 ymm accumulators).
 * Canonical order and exactness: see gemm_simd_tmpl.h and loom_kernels.h. */
#pragma clang fp contract(off)
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include "gemm_internal.h"

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#define T double
#define V __m256d
#define VM __m256i
#define LANES 4
#define NV 2
#define MR 6
#define WIDE_MR 1
#define KC 256
#define NC 256
#define FN loom_dgemm_avx2
#define LOOM_FALLBACK loom_dgemm_scalar
#define V_ZERO() _mm256_setzero_pd()
#define V_LOAD(p) _mm256_loadu_pd(p)
#define V_STORE(p, v) _mm256_storeu_pd((p), (v))
#define V_LOADM(m, p) _mm256_maskload_pd((p), (m))
#define V_STOREM(p, m, v) _mm256_maskstore_pd((p), (m), (v))
#define V_FMA(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define V_SET1(x) _mm256_set1_pd(x)
#define V_MASK(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))

#include "gemm_simd_tmpl.h"

#pragma clang attribute pop
#endif
