/* gemm_internal.h — private declarations shared by the GEMM paths (see loom_kernels.h). */
#ifndef LOOM_GEMM_INTERNAL_H
#define LOOM_GEMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Each path computes the canonical definition of loom_kernels.h for M, N, K >= 1. */
void loom_sgemm_scalar(int64_t M, int64_t N, int64_t K, const float *A, int64_t rsA, int64_t csA,
                       const float *B, int64_t rsB, int64_t csB, float *C, int64_t ldc, int acc);
void loom_dgemm_scalar(int64_t M, int64_t N, int64_t K, const double *A, int64_t rsA, int64_t csA,
                       const double *B, int64_t rsB, int64_t csB, double *C, int64_t ldc, int acc);

/* This thread's packing buffer of at least `bytes` bytes (64-byte aligned), kept between calls so
 * that a product allocates (and, above malloc's mmap threshold, page-faults) only when it needs
 * more than any earlier one on this thread; NULL when out of memory. Not reentrant: one product at
 * a time per thread, which is how the GEMM paths use it. Freed when the thread exits. */
void *loom_gemm_scratch(size_t bytes);

#if defined(__x86_64__)
void loom_sgemm_avx2(int64_t M, int64_t N, int64_t K, const float *A, int64_t rsA, int64_t csA,
                     const float *B, int64_t rsB, int64_t csB, float *C, int64_t ldc, int acc);
void loom_dgemm_avx2(int64_t M, int64_t N, int64_t K, const double *A, int64_t rsA, int64_t csA,
                     const double *B, int64_t rsB, int64_t csB, double *C, int64_t ldc, int acc);
void loom_sgemm_avx512(int64_t M, int64_t N, int64_t K, const float *A, int64_t rsA, int64_t csA,
                       const float *B, int64_t rsB, int64_t csB, float *C, int64_t ldc, int acc);
void loom_dgemm_avx512(int64_t M, int64_t N, int64_t K, const double *A, int64_t rsA, int64_t csA,
                       const double *B, int64_t rsB, int64_t csB, double *C, int64_t ldc, int acc);
#endif

#endif
