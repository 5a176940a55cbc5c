// tanh, sigmoid, softplus.
//
// These formulas are canonical: a backend (CUDA, wasm, …) must repeat exactly these double
// operations in this order, then round once to Float for the Float overloads.

extension DetMath {
    /// `exp(−a)` for `0 <= a <= 40` as a double-double `(eh, el)`:
    /// `(hi, lo, k) = _expCore(−a, 0)`, `eh = hi·2^k`, `el = lo·2^k` (exact scalings).
    @inline(__always) @usableFromInline
    static func _expNegDD(_ a: Double) -> (Double, Double) {
        let (hi, lo, k) = _expCore(-a, 0)
        let p = _pow2(k)
        return (hi * p, lo * p)
    }

    /// Hyperbolic tangent.
    ///
    /// Canonical definition (a = |x|, sign restored at the end since tanh is odd):
    /// - NaN → NaN; `a < 2^-27` → `x`; `a > 22` → `±1`;
    /// - otherwise `(nh, nl) = _expm1DD(2a)` (`e^(2a) − 1` in double-double),
    ///   `(dh, dl0) = twoSum(nh, 2)`, `dl = dl0 + nl`, `t = _ddDiv(nh, nl, dh, dl)`
    ///   i.e. `tanh(a) = (e^(2a) − 1)/(e^(2a) + 1)` with a double-double quotient.
    ///
    /// Edge Cases: `tanh(±0) = ±0`; `tanh(±inf) = ±1`; subnormal x → x.
    ///
    /// Accuracy: measured max 0.519 ulp (2026-11-23 sweep, docs/numerics-math.md); tests assert ≤ 0.55.
    public static func tanh(_ x: Double) -> Double {
        if x.isNaN { return x }
        let a = Swift.abs(x)
        if a < 0x1p-27 { return x }
        if a > 22 { return x < 0 ? -1 : 1 }
        let (nh, nl) = _expm1DD(2 * a)
        let (dh, dl0) = _twoSum(nh, 2)
        let t = _ddDiv(nh, nl, dh, dl0 + nl)
        return x < 0 ? -t : t
    }

    /// Hyperbolic tangent for `Float`: `Float(DetMath.tanh(Double(x)))`.
    ///
    /// Edge Cases: as the `Double` version.
    ///
    /// Accuracy: ≤ 0.5 ulp + 2^-29 ulp.
    public static func tanh(_ x: Float) -> Float { Float(tanh(Double(x))) }

    /// Logistic sigmoid `1/(1 + e^(−x))`, stable for both signs.
    ///
    /// Canonical definition:
    /// - NaN → NaN; `x > 40` → `1`; `x < −40` → `exp(x)` (relative error < 2^-57);
    /// - `(eh, el) = _expNegDD(|x|)` (`e^(−|x|)` in double-double), `(dh, dl0) = twoSum(1, eh)`,
    ///   `dl = dl0 + el`;
    /// - `x >= 0`: `_ddDiv(1, 0, dh, dl)`  (= 1/(1 + e^(−x)));
    /// - `x < 0`:  `_ddDiv(eh, el, dh, dl)` (= e^x/(1 + e^x)).
    ///
    /// Edge Cases: `sigmoid(+inf) = 1`, `sigmoid(−inf) = +0`, `sigmoid(±0) = 0.5`; tiny negative
    /// results are subnormal, never flushed.
    ///
    /// Accuracy: measured max 0.522 ulp (2026-11-23 sweep, docs/numerics-math.md); tests assert ≤ 0.55.
    public static func sigmoid(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 40 { return 1 }
        if x < -40 { return exp(x) }
        let (eh, el) = _expNegDD(Swift.abs(x))
        let (dh, dl0) = _twoSum(1, eh)
        let dl = dl0 + el
        if x >= 0 { return _ddDiv(1, 0, dh, dl) }
        return _ddDiv(eh, el, dh, dl)
    }

    /// Logistic sigmoid for `Float`: `Float(DetMath.sigmoid(Double(x)))`.
    ///
    /// Edge Cases: as the `Double` version (`sigmoid(−inf) = 0`, `sigmoid(+inf) = 1`).
    ///
    /// Accuracy: ≤ 0.5 ulp + 2^-29 ulp.
    public static func sigmoid(_ x: Float) -> Float { Float(sigmoid(Double(x))) }

    /// Softplus `log(1 + e^x)`, stable for both signs.
    ///
    /// Canonical definition (`softplus(x) = max(x, 0) + log1p(e^(−|x|))`):
    /// - NaN → NaN; `x > 40` → `x`; `x < −40` → `exp(x)` (relative error < 2^-57);
    /// - `(eh, el) = _expNegDD(|x|)`; `(lh, ll) = _log1pDD(eh, el)` (= log1p(e^(−|x|)) in
    ///   double-double);
    /// - `x <= 0`: `lh`;
    /// - `x > 0`: `(s, e) = twoSum(x, lh)`; `s + (e + ll)`.
    ///
    /// Edge Cases: `softplus(+inf) = +inf`, `softplus(−inf) = +0`, `softplus(0) = ln 2`.
    ///
    /// Accuracy: measured max 0.510 ulp (2026-11-23 sweep, docs/numerics-math.md); tests assert ≤ 0.55.
    public static func softplus(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 40 { return x }
        if x < -40 { return exp(x) }
        let (eh, el) = _expNegDD(Swift.abs(x))
        let (lh, ll) = _log1pDD(eh, el)
        if x <= 0 { return lh }
        let (s, e) = _twoSum(x, lh)
        return s + (e + ll)
    }

    /// Softplus for `Float`: `Float(DetMath.softplus(Double(x)))`.
    ///
    /// Edge Cases: as the `Double` version.
    ///
    /// Accuracy: ≤ 0.5 ulp + 2^-29 ulp.
    public static func softplus(_ x: Float) -> Float { Float(softplus(Double(x))) }
}
