/* loom_kernels.h — fixed-order GEMM kernels with run-time CPU dispatch.
 *
 * Canonical definition (float and double), which every path computes bit for bit:
 *
 *     for each i in 0..<M, j in 0..<N:
 *         acc = accumulate ? C[i*ldc + j] : +0.0
 *         for k in 0..<K (strictly increasing):
 *             acc = fma(A[i*rsA + k*csA], B[k*rsB + j*csB], acc)   // one correctly rounded fma
 *         C[i*ldc + j] = acc
 *
 * Strides express transposes: y = x·Wᵀ with W stored [out][in] is B = W with rsB = 1,
 * csB = in; dX = dY·W is rsB = in, csB = 1; dW = dYᵀ·X is A = dY with rsA = 1, csA = out.
 * Vectorisation is across i and j only (each SIMD lane owns one output element); K is
 * blocked for cache only by storing and reloading the partial acc (exact). Results do not
 * depend on the CPU level, on the block sizes, or on how a caller splits rows or columns
 * across threads (call the kernel on disjoint row/column ranges with offset pointers).
 *
 * Edge Cases: M <= 0 or N <= 0 does nothing. K == 0 stores +0.0 (accumulate == 0) or leaves
 * C unchanged (accumulate != 0). NaN, ±inf, −0.0 and subnormals follow IEEE-754 fma; the
 * payload of a NaN result is unspecified (compare NaNs as equal). No flush-to-zero.
 * Reentrant and single-threaded; C must not alias A or B.
 */
#ifndef LOOM_KERNELS_H
#define LOOM_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// C[M×N] (+)= A[M×K] · B[K×N] in float, canonical order (see above).
void loom_sgemm(int64_t M, int64_t N, int64_t K,
                const float *A, int64_t rsA, int64_t csA,
                const float *B, int64_t rsB, int64_t csB,
                float *C, int64_t ldc, int accumulate);

/// C[M×N] (+)= A[M×K] · B[K×N] in double, canonical order (see above).
void loom_dgemm(int64_t M, int64_t N, int64_t K,
                const double *A, int64_t rsA, int64_t csA,
                const double *B, int64_t rsB, int64_t csB,
                double *C, int64_t ldc, int accumulate);

/// Best level this CPU (and OS) supports: 0 = portable scalar, 1 = AVX2+FMA, 2 = AVX-512F.
int loom_cpu_level(void);

/// Forces a level (clamped to what the CPU supports) for tests and benchmarks; -1 restores auto.
void loom_set_cpu_level(int level);

/// The level the kernels use now (the forced one, or loom_cpu_level()).
int loom_active_cpu_level(void);

/// GGUF rows r0..<r1 (Q4_1 = type 3, Q8_0 = type 8) times `tokens` rows of Loom Q8 activation blocks (row t: codes qa + t·cols,
/// scales da + t·cols/32, sums sa + t·cols/32): y[t·ldy + r] = GGUFDot.row(row r, row t), bit for
/// bit. Returns 0 (and writes nothing) when the type or the CPU has no vector kernel.
int loom_gguf_dot_tile(uint32_t type, const void *weights, int64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                       int64_t tokens, const int8_t *qa, const float *da, const int32_t *sa, float *y, int64_t ldy);

/// Quantizes n values (n a multiple of 32) to Loom's 8-bit activation blocks, bit for bit
/// GGUFQ8Activations (codes n, scales and sums n/32).
void loom_q8_quantize(const float *x, int64_t n, int8_t *codes, float *scales, int32_t *sums);

/// A Float function of one Float (the scalar definition a vector kernel falls back to).
typedef float (*loom_scalar_f32)(float);

/// DetMath's tables (LoomCore's `DetMath.tables`): det_exp_table (128 doubles), det_erf_small (10),
/// det_erf_table (22 cells of 14).
typedef struct loom_det_tables { const double *exp, *erf_small, *erf; } loom_det_tables;

/// y[i] = f(x[i]) for i in 0..<n, bit for bit DetMath's Float overload of f (fn: 0 exp, 1 sigmoid,
/// 2 tanh, 3 erf); x and y may be the same array. Lanes outside the vector path's range are
/// computed by `scalar` (detmath_avx2.c). Returns 0 (and writes nothing) when the CPU has no vector path.
int loom_det_map_f32(int fn, const float *x, float *y, int64_t n, const loom_det_tables *tables, loom_scalar_f32 scalar);

/// One item of a parallel loop: `fn(ctx, index)`.
typedef void (*loom_task_fn)(void *ctx, int64_t index);

/// Calls fn(ctx, i) once for every i in 0..<count, on the calling thread and up to threads − 1
/// workers of the process's persistent pool (pool.c), and returns when all calls have returned.
/// Items must write disjoint memory; then the result never depends on the schedule. A call from
/// inside an item, or while another thread's call holds the pool, runs serially on the caller.
void loom_parallel_for(int64_t count, int threads, loom_task_fn fn, void *ctx);

/// glibc: keep freed blocks for reuse (large blocks from the heap up to 32 MiB, trim the heap only
/// above 512 MiB free) instead of unmapping them; no effect elsewhere (CPUContext.keepFreedMemory).
void loom_keep_freed_memory(void);

#ifdef __cplusplus
}
#endif

#endif
