// pow.

extension DetMath {
    /// `x` raised to the power `y`.
    ///
    /// Algorithm: special cases first (C99 F.9.4.4, below); then, with `s = −1` when `x < 0` and
    /// `y` is an odd integer (else `+1`):
    /// `(lh, ll) = _logCore(|x|)` (double-double log, relative error < 2^-66);
    /// `th = y·lh`, `tl = fma(y, lh, −th) + y·ll`; `th > 710` → `s·inf`, `th < −746` → `s·0`;
    /// else `(hi, lo, k) = _expCore(th, tl)` and the result is `s · _scaleDD(hi, lo, k)`.
    /// `y` is an integer when `y == y.rounded(.towardZero)`; odd when also `|y| < 2^53` and
    /// `y/2` is not an integer. Exact case: `|x| = 2^e` (significandWidth 0) with integer
    /// `|y| < 2^20` gives `s · _scaleDD(1, 0, e·y)` (exact power of two, rounded once), so
    /// e.g. `pow(2, n)` is exact and `pow(2, −1075)` ties to +0.
    ///
    /// Edge Cases: `pow(x, ±0) = 1` (even for NaN x); `pow(1, y) = 1` (even for NaN y);
    /// otherwise NaN in → NaN. `pow(±0, y<0 odd) = ±inf`, `pow(±0, y<0 other) = +inf`
    /// (incl. −inf), `pow(±0, y>0 odd) = ±0`, `pow(±0, y>0 other) = +0`; `pow(−1, ±inf) = 1`;
    /// `pow(x, −inf)` = +inf for |x| < 1, +0 for |x| > 1; `pow(x, +inf)` = +0 for |x| < 1, +inf
    /// for |x| > 1; `pow(−inf, y)` = −0 (y<0 odd), +0 (y<0 other), −inf (y>0 odd), +inf (y>0
    /// other); `pow(+inf, y)` = +0 for y<0, +inf for y>0; finite `x < 0` with finite non-integer
    /// `y` → NaN. Overflow → ±inf, underflow → ±0 or subnormal.
    ///
    /// Accuracy: measured max 0.514 ulp (2026-11-23 sweep, docs/numerics-math.md); tests assert
    /// ≤ 0.6. The log error (< 2^-66 relative) is amplified by at most `|y·log x| <= 746`.
    /// Not correctly rounded in exact-tie cases other than powers of two (e.g. `pow(3, 34)`
    /// may round the wrong way by 0.5 ulp) — deterministic all the same.
    public static func pow(_ x: Double, _ y: Double) -> Double {
        if y == 0 { return 1 }
        if x == 1 { return 1 }
        if x.isNaN || y.isNaN { return x + y }
        let ax = Swift.abs(x)
        let yIsInt = y.isFinite && y == y.rounded(.towardZero)
        var yIsOdd = false
        if yIsInt && Swift.abs(y) < 0x1p53 {
            let h = y * 0.5
            yIsOdd = h != h.rounded(.towardZero)
        }
        if y.isInfinite {
            if ax == 1 { return 1 }
            return (ax < 1) == (y > 0) ? 0 : .infinity
        }
        if x == 0 {
            if y < 0 { return yIsOdd ? (x.sign == .minus ? -.infinity : .infinity) : .infinity }
            return yIsOdd ? x : 0
        }
        if x.isInfinite {
            if x > 0 { return y < 0 ? 0 : .infinity }
            if y < 0 { return yIsOdd ? -0.0 : 0 }
            return yIsOdd ? -.infinity : .infinity
        }
        if x < 0 && !yIsInt { return .nan }
        let negate = x < 0 && yIsOdd
        if ax.significandWidth == 0 && yIsInt && Swift.abs(y) < 0x1p20 {
            // |x| = 2^e, y integer: the exact result 2^(e·y), rounded once.
            let k = Int(ax.exponent) * Int(y)
            let v: Double = k > 1100 ? .infinity : _scaleDD(1, 0, k)
            return negate ? -v : v
        }
        let (lh, ll) = _logCore(ax)
        let th = y * lh
        var v: Double
        if th > 710 {
            v = .infinity
        } else if th < -746 {
            v = 0
        } else {
            let tl = (-th).addingProduct(y, lh) + y * ll
            let (hi, lo, k) = _expCore(th, tl)
            v = _scaleDD(hi, lo, k)
        }
        return negate ? -v : v
    }

    /// `x` raised to the power `y` for `Float`: `Float(DetMath.pow(Double(x), Double(y)))`.
    ///
    /// Edge Cases: as the `Double` version (both conversions keep every special value).
    ///
    /// Accuracy: ≤ 0.5 ulp + 2^-29 ulp.
    public static func pow(_ x: Float, _ y: Float) -> Float { Float(pow(Double(x), Double(y))) }
}
