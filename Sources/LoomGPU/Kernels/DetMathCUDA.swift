import LoomCore

/// `DetMath` in CUDA C: the canonical double-precision definitions of exp, expm1, log, log1p, tanh,
/// sigmoid, softplus and erf, repeating the Swift source's operations in the same order (each a
/// correctly rounded `__dadd_rn`, `__dmul_rn`, `__fma_rn`, …, so no compiler option can contract
/// or reorder them), and the Float versions as `(float)det_f((double)x)`, as in Swift.
///
/// The tables and split constants are printed from LoomCore (`DetMath.tables`,
/// `DetMath.constants`): one copy of the data. The polynomial coefficients are written in the
/// same hexadecimal spelling as the Swift source. `scripts/gpu-check` compares every function on
/// the GPU with the CPU over millions of inputs (`loom bench --mode gpu-math`).
public enum DetMathCUDA {
    /// The functions a formula may call, by `ScalarUnary` name.
    public static func functionName(_ f: ScalarUnary, double: Bool) -> String { (double ? "det_" : "det_f_") + f.rawValue }

    public static let source: String = tables + body

    static var tables: String {
        var s = "// DetMath tables and constants (printed from LoomCore).\n"
        for t in DetMath.tables {
            s += "__device__ const unsigned long long \(t.name)[\(t.values.count)] = {"
            s += t.values.map { "0x" + Hex.string($0.bitPattern, digits: 16) + "ULL" }.joined(separator: ",")
            s += "};\n"
        }
        for c in DetMath.constants {
            s += "#define \(c.name) __longlong_as_double(0x\(Hex.string(c.value.bitPattern, digits: 16))LL)\n"
        }
        return s
    }

    static let body = #"""
#define DET_T(table, i) __longlong_as_double((long long)(table)[(i)])
#define DET_NAN __longlong_as_double(0x7FF8000000000000LL)
#define DET_INF __longlong_as_double(0x7FF0000000000000LL)
struct det_dd { double hi, lo; };

__device__ __forceinline__ det_dd det_two_sum(double a, double b) {
    double s = __dadd_rn(a, b), bb = __dsub_rn(s, a);
    double e = __dadd_rn(__dsub_rn(a, __dsub_rn(s, bb)), __dsub_rn(b, bb));
    return det_dd{s, e};
}
__device__ __forceinline__ det_dd det_fast_two_sum(double a, double b) {
    double s = __dadd_rn(a, b);
    return det_dd{s, __dsub_rn(b, __dsub_rn(s, a))};
}
__device__ __forceinline__ det_dd det_two_prod(double a, double b) {
    double p = __dmul_rn(a, b);
    return det_dd{p, __fma_rn(a, b, -p)};
}
__device__ __forceinline__ double det_dd_div(double ah, double al, double bh, double bl) {
    double q = __ddiv_rn(ah, bh);
    double rem = __dadd_rn(__fma_rn(-q, bh, ah), __dsub_rn(al, __dmul_rn(q, bl)));
    return __dadd_rn(q, __ddiv_rn(rem, bh));
}
__device__ __forceinline__ double det_pow2(long long k) {
    return __longlong_as_double((long long)((unsigned long long)(k + 1023) << 52));
}
__device__ __forceinline__ double det_scale2(double y, long long k) {
    if (k > 1023) return __dmul_rn(__dmul_rn(y, 0x1p1023), det_pow2(k - 1023));
    if (k < -1022) return __dmul_rn(__dmul_rn(y, det_pow2(k + 600)), 0x1p-600);
    return __dmul_rn(y, det_pow2(k));
}
__device__ __forceinline__ double det_scale_dd(double hi, double lo, long long k) {
    if (k > -1022) return det_scale2(__dadd_rn(hi, lo), k);
    if (k < -1080) return 0.0;
    double p = det_pow2(k + 1074);
    det_dd se = det_two_sum(__dmul_rn(hi, p), __dmul_rn(lo, p));
    double s = se.hi, e = se.lo;
    double r = rint(s);
    double d = __dsub_rn(s, r);
    bool odd = r != __dmul_rn(2.0, trunc(__dmul_rn(0.5, r)));
    if (d > 0.25) {
        double t = __dadd_rn(__dsub_rn(d, 0.5), e);
        if (t > 0 || (t == 0 && odd)) r = __dadd_rn(r, 1.0);
    } else if (d < -0.25) {
        double t = __dadd_rn(__dadd_rn(d, 0.5), e);
        if (t < 0 || (t == 0 && odd)) r = __dsub_rn(r, 1.0);
    }
    return __dmul_rn(__dmul_rn(r, 0x1p-1000), 0x1p-74);
}

// exp core: (hi + lo)·2^k = exp(x + xl).
__device__ __forceinline__ det_dd det_exp_core(double x, double xl, long long* k) {
    double nf = rint(__dmul_rn(x, DET_EXP_INV_L));
    long long n = (long long)nf;
    double t = __dsub_rn(x, __dmul_rn(nf, DET_EXP_L1));
    double r = __dadd_rn(__fma_rn(-nf, DET_EXP_L2, t), xl);
    double q = 0x1.6c16c16c16c17p-10;
    q = __fma_rn(q, r, 0x1.1111111111111p-7);
    q = __fma_rn(q, r, 0x1.5555555555555p-5);
    q = __fma_rn(q, r, 0x1.5555555555555p-3);
    q = __fma_rn(q, r, 0.5);
    double p = __fma_rn(__dmul_rn(r, r), q, r);
    int j = (int)(n & 63);
    double th = DET_T(det_exp_table, 2 * j), tl = DET_T(det_exp_table, 2 * j + 1);
    double s = __fma_rn(th, p, tl);
    *k = n >> 6;
    return det_fast_two_sum(th, s);
}

__device__ double det_exp(double x) {
    if (isnan(x)) return x;
    if (x > 710) return DET_INF;
    if (x < -746) return 0.0;
    long long k;
    det_dd h = det_exp_core(x, 0.0, &k);
    return det_scale_dd(h.hi, h.lo, k);
}

__device__ det_dd det_expm1_dd(double x) {
    if (fabs(x) < 0.25) {
        double q = 0x1.6124613a86d09p-33;
        q = __fma_rn(q, x, 0x1.1eed8eff8d898p-29);
        q = __fma_rn(q, x, 0x1.ae64567f544e4p-26);
        q = __fma_rn(q, x, 0x1.27e4fb7789f5cp-22);
        q = __fma_rn(q, x, 0x1.71de3a556c734p-19);
        q = __fma_rn(q, x, 0x1.a01a01a01a01ap-16);
        q = __fma_rn(q, x, 0x1.a01a01a01a01ap-13);
        q = __fma_rn(q, x, 0x1.6c16c16c16c17p-10);
        q = __fma_rn(q, x, 0x1.1111111111111p-7);
        q = __fma_rn(q, x, 0x1.5555555555555p-5);
        q = __fma_rn(q, x, 0x1.5555555555555p-3);
        det_dd x2 = det_two_prod(x, x);
        double tail = __dmul_rn(__dmul_rn(x2.hi, x), q);
        det_dd se = det_two_sum(x, __dmul_rn(0.5, x2.hi));
        double lo = __dadd_rn(se.lo, __dadd_rn(__dmul_rn(0.5, x2.lo), tail));
        return det_fast_two_sum(se.hi, lo);
    }
    long long k;
    det_dd h = det_exp_core(x, 0.0, &k);
    double p = det_pow2(k);
    det_dd se = det_two_sum(__dmul_rn(h.hi, p), -1.0);
    return det_fast_two_sum(se.hi, __dadd_rn(se.lo, __dmul_rn(h.lo, p)));
}

__device__ double det_expm1(double x) {
    if (isnan(x)) return x;
    if (fabs(x) < 0x1p-54) return x;
    if (x > 40) return det_exp(x);
    if (x < -40) return -1.0;
    return det_expm1_dd(x).hi;
}

__device__ __forceinline__ det_dd det_log1p_poly(double rh, double rl) {
    double q = -0x1.999999999999ap-4;
    q = __fma_rn(q, rh, 0x1.c71c71c71c71cp-4);
    q = __fma_rn(q, rh, -0x1.0000000000000p-3);
    q = __fma_rn(q, rh, 0x1.2492492492492p-3);
    q = __fma_rn(q, rh, -0x1.5555555555555p-3);
    q = __fma_rn(q, rh, 0x1.999999999999ap-3);
    q = __fma_rn(q, rh, -0x1.0000000000000p-2);
    q = __fma_rn(q, rh, 0x1.5555555555555p-2);
    det_dd s = det_two_prod(rh, rh);
    det_dd ab = det_two_sum(rh, __dmul_rn(-0.5, s.hi));
    double t = __dadd_rn(ab.lo, __dadd_rn(__dsub_rn(rl, __dadd_rn(__dmul_rn(0.5, s.lo), __dmul_rn(rh, rl))),
                                          __dmul_rn(__dmul_rn(rh, s.hi), q)));
    return det_dd{ab.hi, t};
}

__device__ det_dd det_log_core(double x) {
    unsigned long long bits = (unsigned long long)__double_as_longlong(x);
    long long e = -1023;
    if (x < 0x1p-1022) {
        bits = (unsigned long long)__double_as_longlong(__dmul_rn(x, 0x1p54));
        e -= 54;
    }
    e += (long long)(bits >> 52);
    int i = (int)((bits >> 45) & 127);
    double m = __longlong_as_double((long long)((bits & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL));
    if (i >= 53) { m = __dmul_rn(m, 0.5); e += 1; }
    double c = DET_T(det_log_table, 3 * i), th = DET_T(det_log_table, 3 * i + 1), tl = DET_T(det_log_table, 3 * i + 2);
    det_dd p = det_two_prod(m, c);
    det_dd r = det_two_sum(__dsub_rn(p.hi, 1.0), p.lo);
    det_dd at = det_log1p_poly(r.hi, r.lo);
    double ef = (double)e;
    det_dd s1 = det_two_sum(__dmul_rn(ef, DET_LN2_HI), th);
    det_dd s2 = det_two_sum(s1.hi, at.hi);
    double lo = __dadd_rn(__dadd_rn(s1.lo, s2.lo), __dadd_rn(__dadd_rn(__dmul_rn(ef, DET_LN2_LO), tl), at.lo));
    return det_fast_two_sum(s2.hi, lo);
}

__device__ det_dd det_log1p_dd(double xh, double xl) {
    if (fabs(xh) < 0x1p-7) {
        det_dd at = det_log1p_poly(xh, xl);
        return det_fast_two_sum(at.hi, at.lo);
    }
    det_dd uv = det_two_sum(1.0, xh);
    det_dd hl = det_log_core(uv.hi);
    return det_fast_two_sum(hl.hi, __dadd_rn(hl.lo, __ddiv_rn(__dadd_rn(uv.lo, xl), uv.hi)));
}

__device__ double det_log(double x) {
    if (isnan(x)) return x;
    if (x < 0) return DET_NAN;
    if (x == 0) return -DET_INF;
    if (x == DET_INF) return x;
    return det_log_core(x).hi;
}

__device__ double det_log1p(double x) {
    if (isnan(x)) return x;
    if (x < -1) return DET_NAN;
    if (x == -1) return -DET_INF;
    if (x == DET_INF) return x;
    if (fabs(x) < 0x1p-54) return x;
    return det_log1p_dd(x, 0.0).hi;
}

__device__ __forceinline__ det_dd det_exp_neg_dd(double a) {
    long long k;
    det_dd h = det_exp_core(-a, 0.0, &k);
    double p = det_pow2(k);
    return det_dd{__dmul_rn(h.hi, p), __dmul_rn(h.lo, p)};
}

__device__ double det_tanh(double x) {
    if (isnan(x)) return x;
    double a = fabs(x);
    if (a < 0x1p-27) return x;
    if (a > 22) return x < 0 ? -1.0 : 1.0;
    det_dd n = det_expm1_dd(__dmul_rn(2.0, a));
    det_dd d = det_two_sum(n.hi, 2.0);
    double t = det_dd_div(n.hi, n.lo, d.hi, __dadd_rn(d.lo, n.lo));
    return x < 0 ? -t : t;
}

__device__ double det_sigmoid(double x) {
    if (isnan(x)) return x;
    if (x > 40) return 1.0;
    if (x < -40) return det_exp(x);
    det_dd e = det_exp_neg_dd(fabs(x));
    det_dd d = det_two_sum(1.0, e.hi);
    double dl = __dadd_rn(d.lo, e.lo);
    if (x >= 0) return det_dd_div(1.0, 0.0, d.hi, dl);
    return det_dd_div(e.hi, e.lo, d.hi, dl);
}

__device__ double det_softplus(double x) {
    if (isnan(x)) return x;
    if (x > 40) return x;
    if (x < -40) return det_exp(x);
    det_dd e = det_exp_neg_dd(fabs(x));
    det_dd l = det_log1p_dd(e.hi, e.lo);
    if (x <= 0) return l.hi;
    det_dd se = det_two_sum(x, l.hi);
    return __dadd_rn(se.hi, __dadd_rn(se.lo, l.lo));
}

__device__ double det_erf(double x) {
    if (isnan(x)) return x;
    double a = fabs(x);
    if (a >= 6) return x < 0 ? -1.0 : 1.0;
    if (a < 0.5) {
        double z = __dmul_rn(x, x);
        double g = DET_T(det_erf_small, 0);
        for (int k = 1; k < 10; k++) g = __fma_rn(g, z, DET_T(det_erf_small, k));
        return __fma_rn(x, DET_TWO_OVER_SQRT_PI_HI, __dmul_rn(x, __dadd_rn(DET_TWO_OVER_SQRT_PI_LO, __dmul_rn(z, g))));
    }
    int i = (int)__dmul_rn(__dsub_rn(a, 0.5), 4.0);
    double t = __dsub_rn(a, __dadd_rn(0.625, __dmul_rn(0.25, (double)i)));
    int base = 14 * i;
    double q = DET_T(det_erf_table, base + 2);
    for (int k = 3; k < 14; k++) q = __fma_rn(q, t, DET_T(det_erf_table, base + k));
    double r = __dadd_rn(DET_T(det_erf_table, base), __fma_rn(t, q, DET_T(det_erf_table, base + 1)));
    return x < 0 ? -r : r;
}

// DetMath.pow: C99's special cases, the exact powers of two, then exp(y·log|x|) in double-double.
__device__ double det_pow(double x, double y) {
    if (y == 0) return 1.0;
    if (x == 1) return 1.0;
    if (isnan(x) || isnan(y)) return __dadd_rn(x, y);
    const double ax = fabs(x);
    const bool yInf = fabs(y) == DET_INF;
    const bool yIsInt = !yInf && y == trunc(y);
    bool yIsOdd = false;
    if (yIsInt && fabs(y) < 0x1p53) { const double h = __dmul_rn(y, 0.5); yIsOdd = h != trunc(h); }
    if (yInf) {
        if (ax == 1) return 1.0;
        return ((ax < 1) == (y > 0)) ? 0.0 : DET_INF;
    }
    if (x == 0) {
        const bool minus = __double_as_longlong(x) < 0;
        if (y < 0) return yIsOdd ? (minus ? -DET_INF : DET_INF) : DET_INF;
        return yIsOdd ? x : 0.0;
    }
    if (ax == DET_INF) {
        if (x > 0) return y < 0 ? 0.0 : DET_INF;
        if (y < 0) return yIsOdd ? -0.0 : 0.0;
        return yIsOdd ? -DET_INF : DET_INF;
    }
    if (x < 0 && !yIsInt) return DET_NAN;
    const bool negate = x < 0 && yIsOdd;
    // |x| = 2^e (normal or subnormal) and an integer |y| < 2^20: 2^(e·y), rounded once.
    const unsigned long long bits = (unsigned long long)__double_as_longlong(ax);
    const long long field = (long long)(bits >> 52);
    const unsigned long long mant = bits & 0x000FFFFFFFFFFFFFULL;
    const bool pow2 = field != 0 ? mant == 0 : (mant & (mant - 1)) == 0;
    if (pow2 && yIsInt && fabs(y) < 0x1p20) {
        const long long e = field != 0 ? field - 1023 : -1074 + (63 - __clzll((long long)mant));
        const long long k = e * (long long)y;
        const double v = k > 1100 ? DET_INF : det_scale_dd(1.0, 0.0, k);
        return negate ? -v : v;
    }
    const det_dd l = det_log_core(ax);
    const double th = __dmul_rn(y, l.hi);
    double v;
    if (th > 710) {
        v = DET_INF;
    } else if (th < -746) {
        v = 0.0;
    } else {
        const double tl = __dadd_rn(__fma_rn(y, l.hi, -th), __dmul_rn(y, l.lo));
        long long k;
        const det_dd h = det_exp_core(th, tl, &k);
        v = det_scale_dd(h.hi, h.lo, k);
    }
    return negate ? -v : v;
}
__device__ __forceinline__ float det_f_pow(float x, float y) { return __double2float_rn(det_pow((double)x, (double)y)); }
__device__ __forceinline__ float det_pow_t(float x, float y) { return det_f_pow(x, y); }
__device__ __forceinline__ double det_pow_t(double x, double y) { return det_pow(x, y); }

__device__ __forceinline__ double det_neg(double x) { return -x; }
__device__ __forceinline__ double det_abs(double x) { return fabs(x); }
__device__ __forceinline__ double det_sqrt(double x) { return __dsqrt_rn(x); }
__device__ __forceinline__ float det_f_neg(float x) { return -x; }
__device__ __forceinline__ float det_f_abs(float x) { return fabsf(x); }
__device__ __forceinline__ float det_f_sqrt(float x) { return __fsqrt_rn(x); }
#define DET_FLOAT_OF(f) __device__ __forceinline__ float det_f_##f(float x) { return __double2float_rn(det_##f((double)x)); }
DET_FLOAT_OF(exp) DET_FLOAT_OF(expm1) DET_FLOAT_OF(log) DET_FLOAT_OF(log1p) DET_FLOAT_OF(tanh)
DET_FLOAT_OF(sigmoid) DET_FLOAT_OF(softplus) DET_FLOAT_OF(erf)

// Overloads for kernels written once over T (LayerKernels): det_exp_t(x), det_sqrt_t(x), det_tanh_t(x),
// det_sigmoid_t(x), det_fma(a, b, c).
#define DET_BOTH(f) __device__ __forceinline__ float det_##f##_t(float x) { return det_f_##f(x); } \
                    __device__ __forceinline__ double det_##f##_t(double x) { return det_##f(x); }
DET_BOTH(exp) DET_BOTH(log) DET_BOTH(sqrt) DET_BOTH(tanh) DET_BOTH(sigmoid)
__device__ __forceinline__ float det_fma(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ __forceinline__ double det_fma(double a, double b, double c) { return __fma_rn(a, b, c); }

// Swift's T.maximum / T.minimum: a NaN (quiet or signaling) loses to a number; ties keep the
// first operand for minimum, the second for maximum (which decides ±0).
template <typename T> __device__ __forceinline__ T det_maximum_of(T x, T y) { return (x > y || isnan(y)) ? x : y; }
template <typename T> __device__ __forceinline__ T det_minimum_of(T x, T y) { return (x <= y || isnan(y)) ? x : y; }
"""#
}
