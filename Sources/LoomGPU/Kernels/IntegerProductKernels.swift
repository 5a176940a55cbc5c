import LoomCore

/// Quantized execution (every integer dtype and f4; docs/numerics.md, "Quantized execution") in
/// CUDA C: `QuantGrid.quantize` of rows (weights per output channel, activations per row of the
/// product that reads them, values between layers per row of the last axis), every step binary64
/// as on the CPU; and `IntegerGemm`: each output's sum of code products exact in integers (Int64
/// for grids of at most 16 bits and f4, a 256-bit accumulator for 32- and 64-bit grids, so the
/// order of the sum cannot matter), converted to binary64 once (`Int256Accumulator.doubleValue`),
/// then `c = T(Double(c) + acc·(sx·sw))`. Compiled with `LayerKernels`.
public enum IntegerProductKernels {
    /// The `kind` argument of `loom_quantize_rows`: 0 signed, 1 unsigned, 2 f4.
    public static func kind(_ grid: QuantGrid) -> Int { grid.dtype == .f4 ? 2 : grid.isUnsigned ? 1 : 0 }

    static let body = #"""

// QuantGrid.clamp: v limited to [lo, hi]; NaN becomes 0.
__device__ __forceinline__ double loom_grid_clamp(double v, double lo, double hi) {
    if (isnan(v)) return 0;
    return fmin(fmax(v, lo), hi);
}

// F4E2M1(x) read back, times 2: an integer in −12…12 (ties to the even code; NaN → 0).
__device__ __forceinline__ long long loom_f4_double_code(double x) {
    if (isnan(x)) return 0;
    const double a = fabs(x);
    const long long m = a <= 0.25 ? 0 : a < 0.75 ? 1 : a <= 1.25 ? 2 : a < 1.75 ? 3 : a <= 2.5 ? 4 : a < 3.5 ? 6 : a <= 5 ? 8 : 12;
    return x < 0 ? -m : m;
}

// QuantGrid.quantize of x[0], x[stride], … (count values) on the grid `kind` (0 signed, 1 unsigned,
// 2 f4) with `qmax`: writes codes[i] (when codes is not null) and the read-back values
// T(Double(code)·scale) to values[i·stride] (when not null); returns the scale per code unit.
__device__ double loom_grid_quantize(const T* x, long long count, long long stride, long long kind, double qmax,
                                     long long* codes, T* values) {
    double s;
    double z = 0;
    long long zi = 0;
    if (kind == 1) {
        double lo = 0, hi = 0;
        for (long long i = 0; i < count; i++) {
            const double v = (double)x[i * stride];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        s = __ddiv_rn(__dsub_rn(hi, lo), qmax);
        if (s == 0) s = 1;
        z = loom_grid_clamp(rint(__ddiv_rn(-lo, s)), 0, qmax);
        zi = isfinite(s) ? (long long)z : 0;
    } else {
        double a = 0;
        for (long long i = 0; i < count; i++) {
            const double v = fabs((double)x[i * stride]);
            if (v > a) a = v;
        }
        s = __ddiv_rn(a, qmax);
        if (s == 0) s = 1;
    }
    const double unit = kind == 2 ? __dmul_rn(s, 0.5) : s;
    for (long long i = 0; i < count; i++) {
        long long c = 0;
        if (isfinite(s)) {
            const double q = __ddiv_rn((double)x[i * stride], s);
            if (kind == 2) {
                c = loom_f4_double_code(q);
            } else if (kind == 1) {
                const double r = rint(q);
                c = isnan(r) ? 0 : (long long)loom_grid_clamp(__dadd_rn(r, z), 0, qmax) - zi;
            } else {
                c = (long long)loom_grid_clamp(rint(q), -qmax, qmax);
            }
        }
        if (codes) codes[i] = c;
        if (values) values[i * stride] = (T)__dmul_rn(__ll2double_rn(c), unit);
    }
    return unit;
}

// QuantizedRows(x, rows, cols, rowStride, colStride) (one thread per row): codes [rows, cols] and
// scales [rows] when not null, and the read-back values (fakeQuantize) into y[r·rsX + c·csX] when
// y is not null.
extern "C" __global__ void loom_quantize_rows(long long* codes, double* scales, T* y, const T* x, long long rows, long long cols,
                                              long long rsX, long long csX, long long kind, double qmax) {
    GRID_LOOP(r, rows) {
        const double s = loom_grid_quantize(x + r * rsX, cols, csX, kind, qmax, codes ? codes + r * cols : 0, y ? y + r * rsX : 0);
        if (scales) scales[r] = s;
    }
}

// Int256Accumulator: w += b (four little-endian limbs) plus a carry in, modulo 2^256.
__device__ __forceinline__ void loom_i256_add(unsigned long long* w, unsigned long long b0, unsigned long long b1,
                                              unsigned long long b2, unsigned long long b3, unsigned long long carry) {
    const unsigned long long b[4] = {b0, b1, b2, b3};
    #pragma unroll
    for (int i = 0; i < 4; i++) {
        const unsigned long long s = w[i] + b[i];
        unsigned long long c = s < b[i] ? 1 : 0;
        const unsigned long long t = s + carry;
        c += t < carry ? 1 : 0;
        w[i] = t;
        carry = c;
    }
}

// Int256Accumulator.addProduct: w += a·b exactly.
__device__ __forceinline__ void loom_i256_add_product(unsigned long long* w, long long a, long long b) {
    const unsigned long long ua = a < 0 ? 0ULL - (unsigned long long)a : (unsigned long long)a;
    const unsigned long long ub = b < 0 ? 0ULL - (unsigned long long)b : (unsigned long long)b;
    const unsigned long long lo = ua * ub, hi = __umul64hi(ua, ub);
    if ((a < 0) != (b < 0)) loom_i256_add(w, ~lo, ~hi, ~0ULL, ~0ULL, 1);
    else loom_i256_add(w, lo, hi, 0, 0, 0);
}

// Int256Accumulator.doubleValue: the top 64 bits from the leading one with a sticky bit for the
// rest, converted by IEEE round to nearest even, then scaled by exact powers of two.
__device__ double loom_i256_double(const unsigned long long* acc) {
    const bool negative = (acc[3] >> 63) == 1;
    unsigned long long m[4] = {acc[0], acc[1], acc[2], acc[3]};
    if (negative) {
        unsigned long long n[4] = {0, 0, 0, 0};
        loom_i256_add(n, ~m[0], ~m[1], ~m[2], ~m[3], 1);
        for (int i = 0; i < 4; i++) m[i] = n[i];
    }
    int top = 3;
    while (top > 0 && m[top] == 0) top--;
    if (top == 0) { const double v = __ull2double_rn(m[0]); return negative ? -v : v; }
    const int lz = __clzll((long long)m[top]);
    unsigned long long window = lz == 0 ? m[top] : (m[top] << lz) | (m[top - 1] >> (64 - lz));
    unsigned long long sticky = lz == 0 ? m[top - 1] : m[top - 1] << lz;
    for (int i = 0; i < top - 1; i++) sticky |= m[i];
    if (sticky != 0) window |= 1;
    const int shift = 64 * (top - 1) + (64 - lz);
    double v = __ull2double_rn(window);
    for (int i = 0; i < shift / 64; i++) v = __dmul_rn(v, 18446744073709551616.0);
    v = __dmul_rn(v, __ull2double_rn(1ULL << (shift % 64)));
    return negative ? -v : v;
}

// IntegerGemm.run: c[i·rsC + j·csC] = T(Double(c) + acc·(sx[i]·sw[j])), acc = Σ_k xc[i,k]·wc[j,k]
// exactly (narrow: Int64; else 256 bits), one thread per output; c starts at +0 unless `accumulate`.
extern "C" __global__ void loom_integer_product(T* c, long long rsC, long long csC, const long long* xc, const double* sx,
                                                const long long* wc, const double* sw, long long m, long long n, long long k,
                                                long long narrow, long long accumulate) {
    GRID_LOOP(idx, m * n) {
        const long long i = idx / n, j = idx % n;
        const long long* xr = xc + i * k;
        const long long* wr = wc + j * k;
        double a;
        if (narrow) {
            long long s = 0;
            for (long long q = 0; q < k; q++) s += xr[q] * wr[q];
            a = __ll2double_rn(s);
        } else {
            unsigned long long acc[4] = {0, 0, 0, 0};
            for (long long q = 0; q < k; q++) loom_i256_add_product(acc, xr[q], wr[q]);
            a = loom_i256_double(acc);
        }
        T* p = c + i * rsC + j * csC;
        *p = (T)__dadd_rn(accumulate ? (double)*p : 0.0, __dmul_rn(a, __dmul_rn(sx[i], sw[j])));
    }
}

// A plain copy (the quantized view starts as the master values).
extern "C" __global__ void loom_copy(T* y, const T* x, long long n) {
    GRID_LOOP(i, n) y[i] = x[i];
}
"""#
}
