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

#include "gemm_simd_tmpl.h"

#pragma clang attribute pop
#endif
