/* gemm_dispatch.c — public entry points of the GEMM kernels and run-time CPU dispatch.
 *
 * The level is detected once with CPUID/XGETBV (CPU feature bits and OS-enabled register
 * state); loom_set_cpu_level can force a lower level. Every level computes the same bits.
 */
#pragma clang fp contract(off)

#include "loom_kernels.h"
#include "gemm_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t loom_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int loom_detect_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!(fma && osxsave && avx)) return 0;
    uint64_t xcr0 = loom_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;                /* XMM and YMM state enabled */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (!avx2) return 0;
    if (avx512f && (xcr0 & 0xe6) == 0xe6) return 2;   /* opmask, ZMM_Hi256, Hi16_ZMM enabled */
    return 1;
}
#else
static int loom_detect_level(void) { return 0; }
#endif

#include <pthread.h>
#include <stdlib.h>

typedef struct { void *p; size_t size; } loom_scratch_t;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *raw) {
    loom_scratch_t *s = raw;
    free(s->p);
    free(s);
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

void *loom_gemm_scratch(size_t bytes) {
    pthread_once(&scratch_once, scratch_key_init);
    loom_scratch_t *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        if (pthread_setspecific(scratch_key, s) != 0) { free(s); return NULL; }
    }
    if (s->size < bytes) {
        size_t size = (bytes + 63) / 64 * 64;
        void *p = aligned_alloc(64, size);
        if (!p) return NULL;
        free(s->p);
        s->p = p;
        s->size = size;
    }
    return s->p;
}

static int loom_detected = -1;  /* cached detection; racing writers store the same value */
static int loom_forced = -1;

int loom_cpu_level(void) {
    int v = __atomic_load_n(&loom_detected, __ATOMIC_RELAXED);
    if (v < 0) {
        v = loom_detect_level();
        __atomic_store_n(&loom_detected, v, __ATOMIC_RELAXED);
    }
    return v;
}

void loom_set_cpu_level(int level) {
    int best = loom_cpu_level();
    if (level < 0) level = -1;
    else if (level > best) level = best;
    __atomic_store_n(&loom_forced, level, __ATOMIC_RELAXED);
}

int loom_active_cpu_level(void) {
    int f = __atomic_load_n(&loom_forced, __ATOMIC_RELAXED);
    return f >= 0 ? f : loom_cpu_level();
}

void loom_sgemm(int64_t M, int64_t N, int64_t K,
                const float *A, int64_t rsA, int64_t csA,
                const float *B, int64_t rsB, int64_t csB,
                float *C, int64_t ldc, int accumulate) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate)
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) C[i * ldc + j] = 0.0f;
        return;
    }
    switch (loom_active_cpu_level()) {
#if defined(__x86_64__)
    case 2: loom_sgemm_avx512(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate); return;
    case 1: loom_sgemm_avx2(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate); return;
#endif
    default: loom_sgemm_scalar(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate); return;
    }
}

void loom_dgemm(int64_t M, int64_t N, int64_t K,
                const double *A, int64_t rsA, int64_t csA,
                const double *B, int64_t rsB, int64_t csB,
                double *C, int64_t ldc, int accumulate) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate)
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) C[i * ldc + j] = 0.0;
        return;
    }
    switch (loom_active_cpu_level()) {
#if defined(__x86_64__)
    case 2: loom_dgemm_avx512(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate); return;
    case 1: loom_dgemm_avx2(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate); return;
#endif
    default: loom_dgemm_scalar(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate); return;
    }
}
