/// Loom's own deterministic transcendental functions.
///
/// Every function here is built only from IEEE-754 basic operations (`+ − × ÷`, `squareRoot()`,
/// fused multiply-add via `addingProduct`, comparisons, `rounded(.toNearestOrEven)`) and bit
/// manipulation, so it returns the same bits on every platform (x86-64, ARM64, WebAssembly,
/// and a CUDA port that repeats the same operations in the same order). Nothing here calls the
/// platform math library.
///
/// Conventions shared by all functions:
/// - The `Double` functions are the canonical definitions. Internally they use double-double
///   arithmetic (an unevaluated sum `hi + lo` of two doubles) where a plain double would lose
///   accuracy; the helpers are `_twoSum`, `_fastTwoSum`, `_twoProd` and `_ddDiv` below.
/// - Every `Float` overload is defined as `Float(DetMath.f(Double(x)))`: widen exactly, evaluate
///   the `Double` function, round once to `Float` (round to nearest even). Its error is about
///   0.5 ulp of `Float`.
/// - `addingProduct` (fused multiply-add, one rounding) is used exactly where the source says so;
///   every other `a * b + c` is two roundings (Swift never contracts).
/// - Special values follow C99 Annex F; subnormals are kept (no flush to zero); NaN inputs give NaN.
public enum DetMath {}

// MARK: - Double-double helpers (internal, part of the canonical definitions)

extension DetMath {
    /// `s + e == a + b` exactly, `s = fl(a + b)` (Knuth's TwoSum, 6 operations, no branch).
    @inline(__always) @usableFromInline
    static func _twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b
        let bb = s - a
        let e = (a - (s - bb)) + (b - bb)
        return (s, e)
    }

    /// `s + e == a + b` exactly when `a == 0` or `|a| >= |b|` (Dekker's FastTwoSum).
    @inline(__always) @usableFromInline
    static func _fastTwoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b
        let e = b - (s - a)
        return (s, e)
    }

    /// `p + e == a * b` exactly (barring underflow): `p = fl(a*b)`, `e = fma(a, b, -p)`.
    @inline(__always) @usableFromInline
    static func _twoProd(_ a: Double, _ b: Double) -> (Double, Double) {
        let p = a * b
        let e = (-p).addingProduct(a, b)
        return (p, e)
    }

    /// `(ah + al) / (bh + bl)` rounded to double: `q = ah/bh`, residual `fma(-q, bh, ah) + (al - q*bl)`,
    /// result `q + residual/bh`.
    @inline(__always) @usableFromInline
    static func _ddDiv(_ ah: Double, _ al: Double, _ bh: Double, _ bl: Double) -> Double {
        let q = ah / bh
        let rem = ah.addingProduct(-q, bh) + (al - q * bl)
        return q + rem / bh
    }

    /// `2^k` for `-1022 <= k <= 1023`, built from its bit pattern.
    @inline(__always) @usableFromInline
    static func _pow2(_ k: Int) -> Double {
        Double(bitPattern: UInt64(truncatingIfNeeded: k + 1023) << 52)
    }

    /// `y * 2^k` with a single rounding (the rounding happens only where the result is subnormal or
    /// overflows). Valid for `-1600 < k < 2046`.
    @inline(__always) @usableFromInline
    static func _scale2(_ y: Double, _ k: Int) -> Double {
        if k > 1023 { return (y * 0x1p1023) * _pow2(k - 1023) }
        if k < -1022 { return (y * _pow2(k + 600)) * 0x1p-600 }
        return y * _pow2(k)
    }

    /// `(hi + lo) · 2^k` rounded once to double, for `hi ∈ [1, 2]`, `|lo| <= ulp(hi)`, `k > -2000`.
    /// `k > -1022` (normal results): `_scale2(hi + lo, k)`. Otherwise: `(s, e) =
    /// twoSum(hi·2^(k+1074), lo·2^(k+1074))` (exact scalings), `r = s` rounded to an integer
    /// (nearest even), `d = s − r`; `r ± 1` when `(d ∓ 0.5) + e` shows the exact value is past the
    /// midpoint (ties to even); result `r · 2^-1074` (exact).
    @inline(__always) @usableFromInline
    static func _scaleDD(_ hi: Double, _ lo: Double, _ k: Int) -> Double {
        if k > -1022 { return _scale2(hi + lo, k) }
        if k < -1080 { return 0 }
        let p = _pow2(k + 1074)
        let (s, e) = _twoSum(hi * p, lo * p)
        var r = s.rounded(.toNearestOrEven)
        let d = s - r
        let odd = r != 2 * (0.5 * r).rounded(.towardZero)
        if d > 0.25 {
            let t = (d - 0.5) + e
            if t > 0 || (t == 0 && odd) { r += 1 }
        } else if d < -0.25 {
            let t = (d + 0.5) + e
            if t < 0 || (t == 0 && odd) { r -= 1 }
        }
        return (r * 0x1p-1000) * 0x1p-74
    }
}
