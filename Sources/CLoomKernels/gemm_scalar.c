/* gemm_scalar.c — level 0: portable C GEMM (also the path on non-x86 builds).
 *
 * Same canonical definition as loom_kernels.h: each output's chain runs sequentially in k with
 * libm fmaf/fma (correctly rounded). Blocking over columns only keeps B rows in cache; the
 * partial sums of a column block live in a local array (exact: stored as the same type).
 */
#pragma clang fp contract(off)

#include <math.h>
#include "gemm_internal.h"

#define LOOM_SCALAR_JB 64

void loom_sgemm_scalar(int64_t M, int64_t N, int64_t K, const float *A, int64_t rsA, int64_t csA,
                       const float *B, int64_t rsB, int64_t csB, float *C, int64_t ldc, int accumulate) {
    float acc[LOOM_SCALAR_JB];
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j0 = 0; j0 < N; j0 += LOOM_SCALAR_JB) {
            int64_t nb = N - j0 < LOOM_SCALAR_JB ? N - j0 : LOOM_SCALAR_JB;
            float *c = C + i * ldc + j0;
            for (int64_t jj = 0; jj < nb; jj++) acc[jj] = accumulate ? c[jj] : 0.0f;
            for (int64_t k = 0; k < K; k++) {
                float a = A[i * rsA + k * csA];
                const float *b = B + k * rsB + j0 * csB;
                for (int64_t jj = 0; jj < nb; jj++) acc[jj] = fmaf(a, b[jj * csB], acc[jj]);
            }
            for (int64_t jj = 0; jj < nb; jj++) c[jj] = acc[jj];
        }
    }
}

void loom_dgemm_scalar(int64_t M, int64_t N, int64_t K, const double *A, int64_t rsA, int64_t csA,
                       const double *B, int64_t rsB, int64_t csB, double *C, int64_t ldc, int accumulate) {
    double acc[LOOM_SCALAR_JB];
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j0 = 0; j0 < N; j0 += LOOM_SCALAR_JB) {
            int64_t nb = N - j0 < LOOM_SCALAR_JB ? N - j0 : LOOM_SCALAR_JB;
            double *c = C + i * ldc + j0;
            for (int64_t jj = 0; jj < nb; jj++) acc[jj] = accumulate ? c[jj] : 0.0;
            for (int64_t k = 0; k < K; k++) {
                double a = A[i * rsA + k * csA];
                const double *b = B + k * rsB + j0 * csB;
                for (int64_t jj = 0; jj < nb; jj++) acc[jj] = fma(a, b[jj * csB], acc[jj]);
            }
            for (int64_t jj = 0; jj < nb; jj++) c[jj] = acc[jj];
        }
    }
}
