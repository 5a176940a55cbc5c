// sin and cos: argument reduction by π/2 (Cody–Waite below 2^28, Payne–Hanek above) and
// Taylor kernels on |r| <= π/4.

extension DetMath {
    // π/2 = _pio2A + _pio2B + _pio2C (+ < 2^-163); each part is the nearest double to the remainder.
    @usableFromInline static let _pio2A: Double = 0x1.921fb54442d18p+0
    @usableFromInline static let _pio2B: Double = 0x1.1a62633145c07p-54
    @usableFromInline static let _pio2C: Double = -0x1.f1976b7ed8fbcp-110
    @usableFromInline static let _twoOverPi: Double = 0x1.45f306dc9c883p-1

    /// Reduces finite `ax >= π/4` to `ax = n·π/2 + (rh + rl)` with `|rh + rl| <= π/4 (1 + 2^-50)`.
    /// Returns `(n mod 4, rh, rl)`.
    ///
    /// Canonical steps for `ax < 2^28` (Cody–Waite with exact products):
    /// `n = rounded_to_nearest_even(ax · 2/π)`; `(ph, pl) = twoProd(n, A)`; `a = ax − ph` (exact,
    /// Sterbenz); `(s, e) = twoSum(a, −pl)`; `(qh, ql) = twoProd(n, B)`; `(s2, e2) = twoSum(s, −qh)`;
    /// `lo = ((e + e2) − ql) − n·C`; `(rh, rl) = twoSum(s2, lo)`.
    /// For `ax >= 2^28`: `_payneHanek(ax)` (DetMath+TrigReduce.swift).
    @inline(__always) @usableFromInline
    static func _reducePiOver2(_ ax: Double) -> (Int, Double, Double) {
        if ax >= 0x1p28 { return _payneHanek(ax) }
        let nf = (ax * _twoOverPi).rounded(.toNearestOrEven)
        let (ph, pl) = _twoProd(nf, _pio2A)
        let a = ax - ph
        let (s, e) = _twoSum(a, -pl)
        let (qh, ql) = _twoProd(nf, _pio2B)
        let (s2, e2) = _twoSum(s, -qh)
        let lo = ((e + e2) - ql) - nf * _pio2C
        let (rh, rl) = _twoSum(s2, lo)
        return (Int(nf) & 3, rh, rl)
    }

    /// sin(r + rl) for |r| <= π/4·(1 + 2^-50), |rl| <= ulp(r).
    ///
    /// `(zh, zl) = twoProd(r, r)`; `S2(z) = Σ_{k=2..8} (−1)^k z^(k−2)/(2k+1)!` (Taylor terms
    /// r^5…r^17, Horner with fma on zh); `Slo = fma(zh, S2, −S6lo)` with `S6hi + S6lo = 1/6`;
    /// `r3 = r·zh`, `r3l = fma(r, zh, −r3) + r·zl` (r³ in double-double);
    /// `t = fma(r3, −S6hi, r3·Slo + r3l·(−S6hi))` (= r³·S(z));
    /// result `r + (t + (rl − (0.5·zh)·rl))`.
    @inline(__always) @usableFromInline
    static func _sinKernel(_ r: Double, _ rl: Double) -> Double {
        let (zh, zl) = _twoProd(r, r)
        var s: Double = 0x1.952c77030ad4ap-49                        //  1/17!
        s = (-0x1.ae7f3e733b81fp-41 as Double).addingProduct(s, zh) // -1/15!
        s = (0x1.6124613a86d09p-33 as Double).addingProduct(s, zh)  //  1/13!
        s = (-0x1.ae64567f544e4p-26 as Double).addingProduct(s, zh) // -1/11!
        s = (0x1.71de3a556c734p-19 as Double).addingProduct(s, zh)  //  1/9!
        s = (-0x1.a01a01a01a01ap-13 as Double).addingProduct(s, zh) // -1/7!
        s = (0x1.1111111111111p-7 as Double).addingProduct(s, zh)   //  1/5!
        let sixthHi: Double = 0x1.5555555555555p-3, sixthLo: Double = 0x1.5555555555555p-57
        let slo = (-sixthLo).addingProduct(zh, s)
        let r3 = r * zh
        let r3l = (-r3).addingProduct(r, zh) + r * zl
        let t = (r3 * slo + r3l * -sixthHi).addingProduct(r3, -sixthHi)
        return r + (t + (rl - (0.5 * zh) * rl))
    }

    /// cos(r + rl) for |r| <= π/4·(1 + 2^-50), |rl| <= ulp(r).
    ///
    /// `(zh, zl) = twoProd(r, r)`; `C(z) = Σ_{k=2..9} (−1)^k z^(k−2)/(2k)!` (Taylor to r^18, Horner
    /// with fma on zh); `(w, we) = twoSum(1, −0.5·zh)`;
    /// result `w + ((we − 0.5·zl) + ((zh·zh)·C − r·rl))`.
    @inline(__always) @usableFromInline
    static func _cosKernel(_ r: Double, _ rl: Double) -> Double {
        let (zh, zl) = _twoProd(r, r)
        var c: Double = -0x1.6827863b97d97p-53                       // -1/18!
        c = (0x1.ae7f3e733b81fp-45 as Double).addingProduct(c, zh)  //  1/16!
        c = (-0x1.93974a8c07c9dp-37 as Double).addingProduct(c, zh) // -1/14!
        c = (0x1.1eed8eff8d898p-29 as Double).addingProduct(c, zh)  //  1/12!
        c = (-0x1.27e4fb7789f5cp-22 as Double).addingProduct(c, zh) // -1/10!
        c = (0x1.a01a01a01a01ap-16 as Double).addingProduct(c, zh)  //  1/8!
        c = (-0x1.6c16c16c16c17p-10 as Double).addingProduct(c, zh) // -1/6!
        c = (0x1.5555555555555p-5 as Double).addingProduct(c, zh)   //  1/4!
        let (w, we) = _twoSum(1, -0.5 * zh)
        return w + ((we - 0.5 * zl) + ((zh * zh) * c - r * rl))
    }

    /// Sine.
    ///
    /// Algorithm: `|x| < 2^-27` → `x`. `|x| <= π/4` → `_sinKernel(x, 0)`. Otherwise reduce `|x|`
    /// with `_reducePiOver2` to `(n, r)` and take `sinK, cosK, −sinK, −cosK` for n = 0, 1, 2, 3;
    /// the sign of x is applied last (`sin(−x) = −sin(x)`). Kernel coefficients: Taylor `1/n!`
    /// rounded to nearest double.
    ///
    /// Edge Cases: NaN → NaN; `±inf` → NaN; `sin(±0) = ±0`; subnormal x → x. Correct for all
    /// finite inputs (Payne–Hanek with 1344 bits of 2/π for |x| ≥ 2^28, Cody–Waite below).
    ///
    /// Accuracy: measured max 0.624 ulp (2026-11-23 sweep, docs/numerics-math.md); tests assert ≤ 0.7.
    public static func sin(_ x: Double) -> Double {
        if !x.isFinite { return x - x }
        let ax = Swift.abs(x)
        if ax < 0x1p-27 { return x }
        var v: Double
        if ax <= 0x1.921fb54442d18p-1 {
            v = _sinKernel(ax, 0)
        } else {
            let (n, rh, rl) = _reducePiOver2(ax)
            switch n {
            case 0: v = _sinKernel(rh, rl)
            case 1: v = _cosKernel(rh, rl)
            case 2: v = -_sinKernel(rh, rl)
            default: v = -_cosKernel(rh, rl)
            }
        }
        return x < 0 ? -v : v
    }

    /// Cosine.
    ///
    /// Algorithm: `|x| < 2^-27` → `1`. `|x| <= π/4` → `_cosKernel(x, 0)`. Otherwise reduce `|x|`
    /// with `_reducePiOver2` to `(n, r)` and take `cosK, −sinK, −cosK, sinK` for n = 0, 1, 2, 3.
    ///
    /// Edge Cases: NaN → NaN; `±inf` → NaN; `cos(±0) = 1`. Correct for all finite inputs.
    ///
    /// Accuracy: measured max 0.627 ulp (2026-11-23 sweep, docs/numerics-math.md); tests assert ≤ 0.7.
    public static func cos(_ x: Double) -> Double {
        if !x.isFinite { return x - x }
        let ax = Swift.abs(x)
        if ax < 0x1p-27 { return 1 }
        if ax <= 0x1.921fb54442d18p-1 { return _cosKernel(ax, 0) }
        let (n, rh, rl) = _reducePiOver2(ax)
        switch n {
        case 0: return _cosKernel(rh, rl)
        case 1: return -_sinKernel(rh, rl)
        case 2: return -_cosKernel(rh, rl)
        default: return _sinKernel(rh, rl)
        }
    }

    /// Sine for `Float`: `Float(DetMath.sin(Double(x)))`.
    ///
    /// Edge Cases: as the `Double` version.
    ///
    /// Accuracy: ≤ 0.5 ulp + 2^-29 ulp.
    public static func sin(_ x: Float) -> Float { Float(sin(Double(x))) }

    /// Cosine for `Float`: `Float(DetMath.cos(Double(x)))`.
    ///
    /// Edge Cases: as the `Double` version.
    ///
    /// Accuracy: ≤ 0.5 ulp + 2^-29 ulp.
    public static func cos(_ x: Float) -> Float { Float(cos(Double(x))) }
}
