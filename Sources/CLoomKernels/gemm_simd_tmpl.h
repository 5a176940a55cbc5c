/* gemm_simd_tmpl.h — the blocked, packed GEMM shared by the SIMD paths (AVX-512, AVX2;
 * float and double). Included by one .c file per (ISA, type) after it defines:
 *
 *   T, V, VM           element type, vector type, lane-mask type
 *   LANES, NV, MR      lanes per vector, vectors per B panel (panel width NRW = NV*LANES),
 *                      rows per micro-kernel (MR*NV accumulators stay in registers)
 *   KC, NC             K block (the partial acc is stored to C and reloaded: exact) and
 *                      N block (a packed KC×NC block of B stays in L2)
 *   FN                 name of the entry point
 *   V_ZERO() V_LOAD(p) V_STORE(p,v) V_LOADM(m,p) V_STOREM(p,m,v) V_FMA(a,b,c) V_SET1(x)
 *   V_MASK(n)          mask of the first n lanes (1 <= n <= LANES)
 *
 * and opens `#pragma clang attribute push(__attribute__((target(...))), apply_to = function)`.
 *
 * Each output element is one SIMD lane; its chain acc = fma(a_k, b_k, acc) runs for k = 0,1,…
 * strictly in order, starting from C (accumulate, or a later K block) or +0.0. Padded B
 * columns and unused A rows only feed lanes/rows whose results are never stored.
 */

#define NRW (NV * LANES)

#define LOOM_ALWAYS_INLINE static inline __attribute__((always_inline))

/* The micro-kernel: C[mr × (nv*LANES)] (+)= Ap[mr × kc] · Bp[kc × nv*LANES].
 * ap: packed A, element (r, k) at ap[k*MR + r]. bp: B rows of the panel, row k at bp + k*ldb.
 * loadc: start from C (else +0.0). partial: the last vector is stored through mask mlast. */
LOOM_ALWAYS_INLINE void loom_kern(const int mr, const int nv, int64_t kc,
                                  const T *restrict ap, const T *restrict bp, int64_t ldb,
                                  T *restrict c, int64_t ldc, int loadc, int partial, VM mlast) {
    V acc[MR][NV];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++) {
            if (!loadc) acc[r][v] = V_ZERO();
            else if (partial && v == nv - 1) acc[r][v] = V_LOADM(mlast, c + r * ldc + v * LANES);
            else acc[r][v] = V_LOAD(c + r * ldc + v * LANES);
        }
    }
    for (int64_t k = 0; k < kc; k++) {
        V b[NV];
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++) b[v] = V_LOAD(bp + v * LANES);
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            V a = V_SET1(ap[r]);
#pragma clang loop unroll(full)
            for (int v = 0; v < nv; v++) acc[r][v] = V_FMA(a, b[v], acc[r][v]);
        }
        ap += MR;
        bp += ldb;
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++) {
            if (partial && v == nv - 1) V_STOREM(c + r * ldc + v * LANES, mlast, acc[r][v]);
            else V_STORE(c + r * ldc + v * LANES, acc[r][v]);
        }
    }
}

/* The small-M micro-kernel: mr (<= WIDE_MR) rows × 4 full panels (4*NRW columns), so that a
 * row vector still runs 4*NV independent chains. Panel q of B starts at bp + q*pstride. */
#define WV (4 * NV)
LOOM_ALWAYS_INLINE void loom_kern_wide(const int mr, int64_t kc, const T *restrict ap, const T *restrict bp,
                                       int64_t ldb, int64_t pstride, T *restrict c, int64_t ldc, int loadc) {
    V acc[WIDE_MR][WV];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < WV; v++) acc[r][v] = loadc ? V_LOAD(c + r * ldc + v * LANES) : V_ZERO();
    for (int64_t k = 0; k < kc; k++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < WV; v++) {
            V b = V_LOAD(bp + (v / NV) * pstride + (v % NV) * LANES);
#pragma clang loop unroll(full)
            for (int r = 0; r < mr; r++) acc[r][v] = V_FMA(V_SET1(ap[r]), b, acc[r][v]);
        }
        ap += MR;
        bp += ldb;
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < WV; v++) V_STORE(c + r * ldc + v * LANES, acc[r][v]);
}

static void loom_kern_wide_any(int mr, int64_t kc, const T *ap, const T *bp, int64_t ldb, int64_t pstride,
                               T *c, int64_t ldc, int loadc) {
    switch (mr) {
    case 1: loom_kern_wide(1, kc, ap, bp, ldb, pstride, c, ldc, loadc); break;
#if WIDE_MR >= 3
    case 2: loom_kern_wide(2, kc, ap, bp, ldb, pstride, c, ldc, loadc); break;
    case 3: loom_kern_wide(3, kc, ap, bp, ldb, pstride, c, ldc, loadc); break;
#endif
    default: break;
    }
}

#define LOOM_KCASE(m)                                                                          \
    case (m) * 4 + 1: loom_kern(m, 1, kc, ap, bp, ldb, c, ldc, loadc, partial, mlast); break; \
    case (m) * 4 + 2: loom_kern(m, 2, kc, ap, bp, ldb, c, ldc, loadc, partial, mlast); break;

/* Selects the micro-kernel compiled for exactly mr rows and nv vectors. */
static void loom_kern_any(int mr, int nv, int64_t kc, const T *ap, const T *bp, int64_t ldb,
                          T *c, int64_t ldc, int loadc, int partial, VM mlast) {
    switch (mr * 4 + nv) {
        LOOM_KCASE(1) LOOM_KCASE(2) LOOM_KCASE(3) LOOM_KCASE(4) LOOM_KCASE(5) LOOM_KCASE(6)
#if MR > 6
        LOOM_KCASE(7) LOOM_KCASE(8) LOOM_KCASE(9) LOOM_KCASE(10) LOOM_KCASE(11) LOOM_KCASE(12)
        LOOM_KCASE(13) LOOM_KCASE(14)
#endif
    default: break;
    }
}

#ifndef LOOM_HAVE_PACK_B_T
/* Packs a B stored transposed (rsB == 1): column j is contiguous in k. */
static void loom_pack_b_t(const T *B, int64_t csB, int64_t kc, int nr, T *restrict dst) {
    for (int j = 0; j < nr; j++) {
        const T *src = B + j * csB;
        for (int64_t k = 0; k < kc; k++) dst[k * NRW + j] = src[k];
    }
}
#endif

/* Packs B[k][j] (k < kc, j < nr) into dst[k*NRW + j]; columns nr..<NRW are zero. */
static void loom_pack_b(const T *B, int64_t rsB, int64_t csB, int64_t kc, int nr, T *restrict dst) {
    if (csB == 1) {
        for (int64_t k = 0; k < kc; k++) {
            const T *src = B + k * rsB;
            for (int v = 0; v < NV; v++) {
                int n = nr - v * LANES;
                V x = n >= LANES ? V_LOAD(src + v * LANES) : n > 0 ? V_LOADM(V_MASK(n), src + v * LANES) : V_ZERO();
                V_STORE(dst + k * NRW + v * LANES, x);
            }
        }
        return;
    }
    if (nr < NRW)
        for (int64_t k = 0; k < kc; k++)
            for (int j = nr; j < NRW; j++) dst[k * NRW + j] = 0;
    if (rsB == 1) {
        loom_pack_b_t(B, csB, kc, nr, dst);
        return;
    }
    for (int64_t k = 0; k < kc; k++)
        for (int j = 0; j < nr; j++) dst[k * NRW + j] = B[k * rsB + j * csB];
}

/* Packs A[r][k] (r < mr, k < kc) into dst[k*MR + r]. */
static void loom_pack_a(const T *A, int64_t rsA, int64_t csA, int mr, int64_t kc, T *restrict dst) {
    if (csA == 1) {
        for (int r = 0; r < mr; r++) {
            const T *src = A + r * rsA;
            for (int64_t k = 0; k < kc; k++) dst[k * MR + r] = src[k];
        }
    } else {
        for (int64_t k = 0; k < kc; k++)
            for (int r = 0; r < mr; r++) dst[k * MR + r] = A[r * rsA + k * csA];
    }
}

/* Rows up to this count read a row-major B (csB == 1) in place instead of packing it. */
#ifndef DIRECT_M_MAX
#define DIRECT_M_MAX (2 * MR)
#endif

void FN(int64_t M, int64_t N, int64_t K, const T *A, int64_t rsA, int64_t csA,
        const T *B, int64_t rsB, int64_t csB, T *C, int64_t ldc, int accumulate) {
    T abuf[MR * KC] __attribute__((aligned(64)));
    const int direct = csB == 1 && M <= DIRECT_M_MAX;
    int64_t ncmax = N < NC ? N : NC;
    int64_t kcmax = K < KC ? K : KC;
    size_t bsize = (size_t)kcmax * (size_t)(direct ? NRW : (ncmax + NRW - 1) / NRW * NRW) * sizeof(T);
    T *bbuf = (T *)loom_gemm_scratch(bsize);
    if (!bbuf) { /* out of memory: the portable path needs no buffer and gives the same bits */
        LOOM_FALLBACK(M, N, K, A, rsA, csA, B, rsB, csB, C, ldc, accumulate);
        return;
    }
    for (int64_t jc = 0; jc < N; jc += NC) {
        int64_t nc = N - jc < NC ? N - jc : NC;
        int64_t npanel = (nc + NRW - 1) / NRW;
        for (int64_t pc = 0; pc < K; pc += KC) {
            int64_t kc = K - pc < KC ? K - pc : KC;
            int loadc = accumulate || pc > 0;
            for (int64_t p = 0; p < npanel; p++) {
                int64_t j0 = jc + p * NRW;
                int nr = (int)(N - j0 < NRW ? N - j0 : NRW);
                if (direct && nr == NRW) continue;
                loom_pack_b(B + pc * rsB + j0 * csB, rsB, csB, kc, nr, direct ? bbuf : bbuf + p * kc * NRW);
            }
            for (int64_t ir = 0; ir < M; ir += MR) {
                int mr = (int)(M - ir < MR ? M - ir : MR);
                loom_pack_a(A + ir * rsA + pc * csA, rsA, csA, mr, kc, abuf);
                int64_t p = 0;
                if (mr <= WIDE_MR)
                    for (; p + 4 <= npanel && jc + (p + 4) * NRW <= N; p += 4) {
                        int64_t j0 = jc + p * NRW;
                        if (direct) loom_kern_wide_any(mr, kc, abuf, B + pc * rsB + j0, rsB, NRW, C + ir * ldc + j0, ldc, loadc);
                        else loom_kern_wide_any(mr, kc, abuf, bbuf + p * kc * NRW, NRW, kc * NRW, C + ir * ldc + j0, ldc, loadc);
                    }
                for (; p < npanel; p++) {
                    int64_t j0 = jc + p * NRW;
                    int nr = (int)(N - j0 < NRW ? N - j0 : NRW);
                    int nv = (nr + LANES - 1) / LANES;
                    int rem = nr - (nv - 1) * LANES;
                    const T *bp;
                    int64_t ldb;
                    if (direct && nr == NRW) { bp = B + pc * rsB + j0; ldb = rsB; }
                    else { bp = direct ? bbuf : bbuf + p * kc * NRW; ldb = NRW; }
                    loom_kern_any(mr, nv, kc, abuf, bp, ldb, C + ir * ldc + j0, ldc, loadc,
                                  rem < LANES, V_MASK(rem));
                }
            }
        }
    }
}
