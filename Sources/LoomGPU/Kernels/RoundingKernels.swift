import LoomCore

/// Rounded execution (f16, bf16; docs/numerics.md, "Execution in every dtype") in CUDA C: what an
/// f32 value becomes when stored as binary16 or bfloat16 and read back (`DType.roundTrip`), by the
/// same integer bit manipulation as `F16(_:)`/`BF16(_:)` and their exact decoding (round to nearest
/// even, subnormals exact, overflow to infinity, NaN → the canonical quiet NaN with its sign); and
/// the test f16 loss scaling makes of the gradients (`LossScale.unscale`). Compiled with `LayerKernels`.
public enum RoundingKernels {
    /// The `type` argument of `loom_round_elements`.
    public static func code(_ dtype: DType) -> Int { dtype == .bf16 ? 1 : 0 }

    static let body = #"""

// _shiftRightNearestEven: v >> shift, rounded to nearest, ties to even (shift ≥ 64 gives 0).
__device__ __forceinline__ unsigned long long loom_shift_nearest_even(unsigned long long v, int shift) {
    if (shift <= 0) return v;
    if (shift >= 64) return 0;
    const unsigned long long q = v >> shift, r = v & ((1ULL << shift) - 1), half = 1ULL << (shift - 1);
    return (r > half || (r == half && (q & 1))) ? q + 1 : q;
}

// DType.roundTrip(x, through: .f16): F16(x) (_narrowMagnitude from binary32) read back as a float.
// The result is rounded · 2^(q − 10), rounded < 2^12: exact in binary32, built from bits.
__device__ __forceinline__ float loom_round_f16(float x) {
    const unsigned bits = __float_as_uint(x), sign = bits & 0x80000000u, a = bits & 0x7fffffffu;
    if (a > 0x7f800000u) return __uint_as_float(sign | 0x7fc00000u);
    if (a == 0 || a == 0x7f800000u) return x;
    const int e = (int)(a >> 23);
    const unsigned long long m = a & 0x7fffffu;
    const unsigned long long sig = e == 0 ? m : (m | 0x800000u);
    const int exp = e == 0 ? -126 : e - 127;
    if (exp > 15) return __uint_as_float(sign | 0x7f800000u);
    const int q = exp > -14 ? exp : -14;
    const unsigned long long rounded = loom_shift_nearest_even(sig, 13 + (q - exp));
    if (((unsigned long long)(q + 14) << 10) + rounded >= 0x7c00ULL) return __uint_as_float(sign | 0x7f800000u);
    const float scale = __uint_as_float((unsigned)(q - 10 + 127) << 23);
    return __uint_as_float(sign | __float_as_uint(__fmul_rn((float)rounded, scale)));
}

// DType.roundTrip(x, through: .bf16): BF16(x) (the low 16 bits dropped, nearest even; a carry runs
// into the exponent and up to infinity) read back as a float.
__device__ __forceinline__ float loom_round_bf16(float x) {
    const unsigned bits = __float_as_uint(x), sign = bits & 0x80000000u, a = bits & 0x7fffffffu;
    if (a > 0x7f800000u) return __uint_as_float(sign | 0x7fc00000u);
    return __uint_as_float(sign | ((unsigned)loom_shift_nearest_even(a, 16) << 16));
}

// DType.roundTrip(x, through:) f16 (type 0) or bf16 (type 1).
__device__ __forceinline__ float loom_round_trip(float x, long long type) { return type == 1 ? loom_round_bf16(x) : loom_round_f16(x); }

// Execution.roundElements: y[i] = roundTrip(x[i]).
extern "C" __global__ void loom_round_elements(T* y, const T* x, long long n, long long type) {
    GRID_LOOP(i, n) y[i] = (T)loom_round_trip((float)x[i], type);
}

// LossScale.unscale's test: *flag = 1 when some g[i] is an infinity or NaN (every writer stores
// the same integer, so the result does not depend on their order).
extern "C" __global__ void loom_flag_nonfinite(int* flag, const T* g, long long n) {
    GRID_LOOP(i, n) if (!isfinite(g[i])) *flag = 1;
}
"""#
}
