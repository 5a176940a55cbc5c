/* detmath_avx2.c — DetMath's Float exp, sigmoid, tanh and erf on four lanes at once (AVX2 + FMA).
 *
 * The canonical definitions are the Swift source (Sources/LoomCore/Math/DetMath*.swift): each
 * Float function is Float(f(Double(x))), f a fixed sequence of IEEE double operations. Here every
 * lane performs exactly that sequence — the same additions, products, divisions and fused
 * multiply-adds, in the same order, each rounded once — so each lane's bits equal the scalar
 * function's. Both branches of a two-way formula are computed and the lane's own is selected
 * (no side effects, so the selection is exact). Lanes outside the ranges below (NaN, large
 * magnitudes, tanh of tiny values) are passed to `scalar`, the Swift definition itself.
 *
 *   exp:     −700 ≤ x ≤ 700 (every 2^k normal: _scaleDD is then (hi + lo)·2^k)
 *   sigmoid: |x| ≤ 40
 *   tanh:    2^-27 ≤ |x| ≤ 22
 *   erf:     |x| < 6
 *
 * No contraction (`fp contract(off)`): a product and a sum stay two roundings unless the source
 * says fma. The tables (2^(j/64) as double-doubles, the erf polynomials) are LoomCore's, passed
 * in by the caller: one copy of the data.
 */
#pragma clang fp contract(off)

#include "loom_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))

typedef struct { __m256d hi, lo; } dd4;

/* Constants of the Swift source (DetMath+Exp.swift, DetMath.swift). */
static const double EXP_L1 = 0x1.62e42fefa0000p-7;
static const double EXP_L2 = 0x1.cf79abc9e3b3ap-46;
static const double EXP_INV_L = 0x1.71547652b82fep+6;
static const double TWO_OVER_SQRT_PI_HI = 0x1.20dd750429b6dp+0;
static const double TWO_OVER_SQRT_PI_LO = 0x1.1ae3a914fed80p-56;

TGT static inline __m256d set1(double v) { return _mm256_set1_pd(v); }
TGT static inline __m256d neg(__m256d v) { return _mm256_xor_pd(v, set1(-0.0)); }
TGT static inline __m256d fma4(__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); }

/* _twoSum(a, b) */
TGT static inline dd4 two_sum(__m256d a, __m256d b) {
    __m256d s = _mm256_add_pd(a, b);
    __m256d bb = _mm256_sub_pd(s, a);
    __m256d e = _mm256_add_pd(_mm256_sub_pd(a, _mm256_sub_pd(s, bb)), _mm256_sub_pd(b, bb));
    return (dd4){s, e};
}

/* _fastTwoSum(a, b) */
TGT static inline dd4 fast_two_sum(__m256d a, __m256d b) {
    __m256d s = _mm256_add_pd(a, b);
    return (dd4){s, _mm256_sub_pd(b, _mm256_sub_pd(s, a))};
}

/* _twoProd(a, b): p = a·b, e = fma(a, b, −p) */
TGT static inline dd4 two_prod(__m256d a, __m256d b) {
    __m256d p = _mm256_mul_pd(a, b);
    return (dd4){p, fma4(a, b, neg(p))};
}

/* _ddDiv: q = ah/bh; rem = fma(−q, bh, ah) + (al − q·bl); q + rem/bh */
TGT static inline __m256d dd_div(__m256d ah, __m256d al, __m256d bh, __m256d bl) {
    __m256d q = _mm256_div_pd(ah, bh);
    __m256d rem = _mm256_add_pd(fma4(neg(q), bh, ah), _mm256_sub_pd(al, _mm256_mul_pd(q, bl)));
    return _mm256_add_pd(q, _mm256_div_pd(rem, bh));
}

/* _pow2(k) for 32-bit k in −1022…1023: the bit pattern (k + 1023) << 52. */
TGT static inline __m256d pow2(__m128i k) {
    __m256i e = _mm256_add_epi64(_mm256_cvtepi32_epi64(k), _mm256_set1_epi64x(1023));
    return _mm256_castsi256_pd(_mm256_slli_epi64(e, 52));
}

/* _expCore(x, 0): (hi, lo) and k with exp(x) ≈ (hi + lo)·2^k. |x| ≤ 750. */
TGT static inline dd4 exp_core(__m256d x, __m128i *k, const double *table) {
    __m256d nf = _mm256_round_pd(_mm256_mul_pd(x, set1(EXP_INV_L)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i n = _mm256_cvtpd_epi32(nf);                     /* exact: nf is an integer, |nf| < 2^17 */
    __m256d t = _mm256_sub_pd(x, _mm256_mul_pd(nf, set1(EXP_L1)));
    __m256d r = _mm256_add_pd(fma4(neg(nf), set1(EXP_L2), t), _mm256_setzero_pd());   /* + xl (= 0) */
    __m256d q = set1(0x1.6c16c16c16c17p-10);                /* 1/720 */
    q = fma4(q, r, set1(0x1.1111111111111p-7));             /* 1/120 */
    q = fma4(q, r, set1(0x1.5555555555555p-5));             /* 1/24 */
    q = fma4(q, r, set1(0x1.5555555555555p-3));             /* 1/6 */
    q = fma4(q, r, set1(0.5));
    __m256d p = fma4(_mm256_mul_pd(r, r), q, r);
    __m128i j2 = _mm_slli_epi32(_mm_and_si128(n, _mm_set1_epi32(63)), 1);
    __m256d th = _mm256_i32gather_pd(table, j2, 8);
    __m256d tl = _mm256_i32gather_pd(table + 1, j2, 8);
    __m256d s = fma4(th, p, tl);
    *k = _mm_srai_epi32(n, 6);
    return fast_two_sum(th, s);
}

/* _expm1DD(x) for |x| ≤ 45: both branches, each lane takes its own (|x| < 0.25: Taylor). */
TGT static inline dd4 expm1_dd(__m256d x, const double *table) {
    /* Taylor branch */
    __m256d q = set1(0x1.6124613a86d09p-33);                /* 1/13! */
    q = fma4(q, x, set1(0x1.1eed8eff8d898p-29));
    q = fma4(q, x, set1(0x1.ae64567f544e4p-26));
    q = fma4(q, x, set1(0x1.27e4fb7789f5cp-22));
    q = fma4(q, x, set1(0x1.71de3a556c734p-19));
    q = fma4(q, x, set1(0x1.a01a01a01a01ap-16));
    q = fma4(q, x, set1(0x1.a01a01a01a01ap-13));
    q = fma4(q, x, set1(0x1.6c16c16c16c17p-10));
    q = fma4(q, x, set1(0x1.1111111111111p-7));
    q = fma4(q, x, set1(0x1.5555555555555p-5));
    q = fma4(q, x, set1(0x1.5555555555555p-3));             /* 1/3! */
    dd4 x2 = two_prod(x, x);
    __m256d tail = _mm256_mul_pd(_mm256_mul_pd(x2.hi, x), q);
    dd4 se = two_sum(x, _mm256_mul_pd(set1(0.5), x2.hi));
    __m256d lo = _mm256_add_pd(se.lo, _mm256_add_pd(_mm256_mul_pd(set1(0.5), x2.lo), tail));
    dd4 small = fast_two_sum(se.hi, lo);
    /* Table branch */
    __m128i k;
    dd4 e = exp_core(x, &k, table);
    __m256d p = pow2(k);
    dd4 s = two_sum(_mm256_mul_pd(e.hi, p), set1(-1.0));
    dd4 big = fast_two_sum(s.hi, _mm256_add_pd(s.lo, _mm256_mul_pd(e.lo, p)));
    __m256d use_small = _mm256_cmp_pd(_mm256_andnot_pd(set1(-0.0), x), set1(0.25), _CMP_LT_OQ);
    return (dd4){_mm256_blendv_pd(big.hi, small.hi, use_small), _mm256_blendv_pd(big.lo, small.lo, use_small)};
}

/* DetMath.exp for −700 ≤ x ≤ 700: _scale2(hi + lo, k) = (hi + lo)·2^k. */
TGT static inline __m256d det_exp4(__m256d x, const double *table) {
    __m128i k;
    dd4 e = exp_core(x, &k, table);
    return _mm256_mul_pd(_mm256_add_pd(e.hi, e.lo), pow2(k));
}

/* DetMath.sigmoid for |x| ≤ 40. */
TGT static inline __m256d det_sigmoid4(__m256d x, const double *table) {
    __m256d a = _mm256_andnot_pd(set1(-0.0), x);
    __m128i k;
    dd4 e = exp_core(neg(a), &k, table);                    /* _expNegDD(|x|) */
    __m256d p = pow2(k);
    __m256d eh = _mm256_mul_pd(e.hi, p), el = _mm256_mul_pd(e.lo, p);
    dd4 d = two_sum(set1(1.0), eh);
    __m256d dl = _mm256_add_pd(d.lo, el);
    __m256d pos = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GE_OQ);
    __m256d ah = _mm256_blendv_pd(eh, set1(1.0), pos), al = _mm256_blendv_pd(el, _mm256_setzero_pd(), pos);
    return dd_div(ah, al, d.hi, dl);
}

/* DetMath.tanh for 2^-27 ≤ |x| ≤ 22. */
TGT static inline __m256d det_tanh4(__m256d x, const double *table) {
    __m256d a = _mm256_andnot_pd(set1(-0.0), x);
    dd4 n = expm1_dd(_mm256_mul_pd(set1(2.0), a), table);
    dd4 d = two_sum(n.hi, set1(2.0));
    __m256d t = dd_div(n.hi, n.lo, d.hi, _mm256_add_pd(d.lo, n.lo));
    __m256d negative = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ);
    return _mm256_blendv_pd(t, neg(t), negative);
}

/* DetMath.erf for |x| < 6: both ranges, each lane takes its own (|x| < 0.5: the small polynomial;
 * else cell i = Int((|x| − 0.5)·4) of the table, 14 doubles per cell). */
TGT static inline __m256d det_erf4(__m256d x, const double *small, const double *table) {
    __m256d a = _mm256_andnot_pd(set1(-0.0), x);
    /* a < 0.5 */
    __m256d z = _mm256_mul_pd(x, x);
    __m256d g = set1(small[0]);
    for (int k = 1; k < 10; k++) g = fma4(g, z, set1(small[k]));
    __m256d near0 = fma4(x, set1(TWO_OVER_SQRT_PI_HI),
                         _mm256_mul_pd(x, _mm256_add_pd(set1(TWO_OVER_SQRT_PI_LO), _mm256_mul_pd(z, g))));
    /* 0.5 ≤ a < 6 (lanes outside use a cell clamped into 0…21 here and discard the result) */
    __m128i i = _mm256_cvttpd_epi32(_mm256_mul_pd(_mm256_sub_pd(a, set1(0.5)), set1(4.0)));
    i = _mm_min_epi32(_mm_max_epi32(i, _mm_setzero_si128()), _mm_set1_epi32(21));
    __m256d t = _mm256_sub_pd(a, _mm256_add_pd(set1(0.625), _mm256_mul_pd(set1(0.25), _mm256_cvtepi32_pd(i))));
    __m128i base = _mm_mullo_epi32(i, _mm_set1_epi32(14));
    __m256d q = _mm256_i32gather_pd(table + 2, base, 8);
    for (int k = 3; k < 14; k++) q = fma4(q, t, _mm256_i32gather_pd(table + k, base, 8));
    __m256d r = _mm256_add_pd(_mm256_i32gather_pd(table, base, 8), fma4(t, q, _mm256_i32gather_pd(table + 1, base, 8)));
    __m256d negative = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ);
    __m256d far0 = _mm256_blendv_pd(r, neg(r), negative);
    return _mm256_blendv_pd(far0, near0, _mm256_cmp_pd(a, set1(0.5), _CMP_LT_OQ));
}

/* Lanes the vector path covers (NaN compares false, so NaN lanes are never covered). */
TGT static inline int covered(int fn, __m256d x) {
    __m256d a = _mm256_andnot_pd(set1(-0.0), x);
    __m256d ok;
    switch (fn) {
    case 0: ok = _mm256_cmp_pd(a, set1(700.0), _CMP_LE_OQ); break;
    case 1: ok = _mm256_cmp_pd(a, set1(40.0), _CMP_LE_OQ); break;
    case 2: ok = _mm256_and_pd(_mm256_cmp_pd(a, set1(22.0), _CMP_LE_OQ), _mm256_cmp_pd(a, set1(0x1p-27), _CMP_GE_OQ)); break;
    default: ok = _mm256_cmp_pd(a, set1(6.0), _CMP_LT_OQ); break;
    }
    return _mm256_movemask_pd(ok);
}

TGT static void map_f32(int fn, const float *x, float *y, int64_t n, const loom_det_tables *tables, loom_scalar_f32 scalar) {
    const double *table = tables->exp;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(x + i));   /* exact */
        int mask = covered(fn, v);
        __m256d r;
        switch (fn) {
        case 0: r = det_exp4(v, table); break;
        case 1: r = det_sigmoid4(v, table); break;
        case 2: r = det_tanh4(v, table); break;
        default: r = det_erf4(v, tables->erf_small, tables->erf); break;
        }
        float out[4];
        _mm_storeu_ps(out, _mm256_cvtpd_ps(r));             /* one rounding to Float (nearest even) */
        for (int l = 0; l < 4; l++) {
            float xl = x[i + l];
            y[i + l] = (mask >> l) & 1 ? out[l] : scalar(xl);
        }
    }
    for (; i < n; i++) y[i] = scalar(x[i]);
}
#endif

int loom_det_map_f32(int fn, const float *x, float *y, int64_t n, const loom_det_tables *tables, loom_scalar_f32 scalar) {
#if defined(__x86_64__)
    if (loom_active_cpu_level() < 1 || fn < 0 || fn > 3) return 0;
    map_f32(fn, x, y, n, tables, scalar);
    return 1;
#else
    (void)fn; (void)x; (void)y; (void)n; (void)tables; (void)scalar;
    return 0;
#endif
}
