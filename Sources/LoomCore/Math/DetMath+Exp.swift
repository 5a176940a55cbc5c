// exp and expm1.

extension DetMath {
    // ln2/64 split for Cody–Waite: L1 has 36 significant bits so n*L1 is exact for |n| < 2^17.
    @usableFromInline static let _expL1: Double = 0x1.62e42fefa0000p-7
    @usableFromInline static let _expL2: Double = 0x1.cf79abc9e3b3ap-46
    @usableFromInline static let _expInvL: Double = 0x1.71547652b82fep+6   // 64/ln2

    /// Core of exp: returns `(hi, lo, k)` with `exp(x + xl) ≈ (hi + lo) · 2^k`, `hi ∈ [1, 2]`,
    /// relative error below 2^-62. Requires `|x| <= 750`, `|xl| <= 2^-30`.
    ///
    /// Canonical steps:
    /// 1. `n = rounded_to_nearest_even(x * (64/ln2))`, `j = n & 63`, `k = n >> 6` (floor).
    /// 2. `r = fma(-n, L2, x - n*L1) + xl` (Cody–Waite, `n*L1` and the subtraction are exact).
    /// 3. `p = fma(r*r, q, r)`, `q = 1/2 + r(1/6 + r(1/24 + r(1/120 + r/720)))` (Horner with fma):
    ///    Taylor to degree 6, truncation below 2^-64 for `|r| <= ln2/128`.
    /// 4. `T_j = 2^(j/64)` as a double-double table (`Th + Tl`, computed to 400 bits and rounded);
    ///    `s = fma(Th, p, Tl)`, `(hi, lo) = fastTwoSum(Th, s)`.
    @inline(__always) @usableFromInline
    static func _expCore(_ x: Double, _ xl: Double) -> (Double, Double, Int) {
        let nf = (x * _expInvL).rounded(.toNearestOrEven)
        let n = Int(nf)
        let t = x - nf * _expL1
        let r = t.addingProduct(-nf, _expL2) + xl
        var q: Double = 0x1.6c16c16c16c17p-10                 // 1/720
        q = (0x1.1111111111111p-7 as Double).addingProduct(q, r) // 1/120
        q = (0x1.5555555555555p-5 as Double).addingProduct(q, r) // 1/24
        q = (0x1.5555555555555p-3 as Double).addingProduct(q, r) // 1/6
        q = (0.5 as Double).addingProduct(q, r)
        let p = r.addingProduct(r * r, q)
        let j = n & 63
        let th = _expTable[2 &* j], tl = _expTable[2 &* j &+ 1]
        let s = tl.addingProduct(th, p)
        let (hi, lo) = _fastTwoSum(th, s)
        return (hi, lo, n >> 6)
    }

    /// `e^x`.
    ///
    /// Algorithm: `_expCore(x, 0)` gives `(hi + lo)·2^k`; the result is `_scaleDD(hi, lo, k)`
    /// (one rounding, also for subnormal results). Coefficients: Taylor `1/n!` rounded to nearest double; table
    /// `2^(j/64)` computed with mpmath at 2000 bits, rounded to a double-double.
    ///
    /// Edge Cases: NaN → NaN; `exp(+inf) = +inf`; `exp(-inf) = +0`; `x > 710` → `+inf`;
    /// `x < -746` → `+0`; results between are rounded once (overflow → +inf, subnormals kept); `exp(±0) = 1`.
    ///
    /// Accuracy: measured max 0.512 ulp (2026-11-23 sweep, docs/numerics-math.md); tests assert ≤ 0.55.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 710 { return .infinity }
        if x < -746 { return 0 }
        let (hi, lo, k) = _expCore(x, 0)
        return _scaleDD(hi, lo, k)
    }

    /// `e^x` for `Float`: `Float(DetMath.exp(Double(x)))`.
    ///
    /// Edge Cases: as the `Double` version (overflow above ≈ 88.72, underflow to 0 below ≈ -103.97).
    ///
    /// Accuracy: ≤ 0.5 ulp + 2^-29 ulp (one rounding of a Double accurate to 2^-62).
    public static func exp(_ x: Float) -> Float { Float(exp(Double(x))) }

    /// expm1 as a double-double `(hi, lo)`, used by `expm1`, `tanh`. Valid for `|x| <= 45`.
    ///
    /// Canonical steps:
    /// - `|x| < 0.25`: Taylor series `x + x²/2 + x³·P(x)`, `P = Σ_{n=3..13} x^(n-3)/n!` (Horner, fma).
    ///   `x²/2` is taken exactly with `_twoProd`; `(s, e) = twoSum(x, x²hi/2)`;
    ///   `lo = e + (x²lo/2 + (x*x*x)*P)`; result `fastTwoSum(s, lo)`.
    /// - otherwise: `(hi, lo, k) = _expCore(x, 0)`; `eh = hi·2^k`, `el = lo·2^k` (exact);
    ///   `(s, e) = twoSum(eh, -1)`; result `fastTwoSum(s, e + el)`.
    @inline(__always) @usableFromInline
    static func _expm1DD(_ x: Double) -> (Double, Double) {
        if Swift.abs(x) < 0.25 {
            var q: Double = 0x1.6124613a86d09p-33                    // 1/13!
            q = (0x1.1eed8eff8d898p-29 as Double).addingProduct(q, x) // 1/12!
            q = (0x1.ae64567f544e4p-26 as Double).addingProduct(q, x) // 1/11!
            q = (0x1.27e4fb7789f5cp-22 as Double).addingProduct(q, x) // 1/10!
            q = (0x1.71de3a556c734p-19 as Double).addingProduct(q, x) // 1/9!
            q = (0x1.a01a01a01a01ap-16 as Double).addingProduct(q, x) // 1/8!
            q = (0x1.a01a01a01a01ap-13 as Double).addingProduct(q, x) // 1/7!
            q = (0x1.6c16c16c16c17p-10 as Double).addingProduct(q, x) // 1/6!
            q = (0x1.1111111111111p-7 as Double).addingProduct(q, x)  // 1/5!
            q = (0x1.5555555555555p-5 as Double).addingProduct(q, x)  // 1/4!
            q = (0x1.5555555555555p-3 as Double).addingProduct(q, x)  // 1/3!
            let (x2h, x2l) = _twoProd(x, x)
            let tail = (x2h * x) * q
            let (s, e) = _twoSum(x, 0.5 * x2h)
            let lo = e + (0.5 * x2l + tail)
            return _fastTwoSum(s, lo)
        }
        let (hi, lo, k) = _expCore(x, 0)
        let p = _pow2(k)
        let (s, e) = _twoSum(hi * p, -1)
        return _fastTwoSum(s, e + lo * p)
    }

    /// `e^x − 1`, accurate near 0.
    ///
    /// Algorithm: `|x| < 2^-54` → `x`; `x > 40` → `exp(x)`; `x < -40` → `-1`; otherwise the `hi`
    /// part of `_expm1DD(x)` (Taylor to degree 13 for `|x| < 0.25`, else table exp minus 1 in
    /// double-double).
    ///
    /// Edge Cases: NaN → NaN; `expm1(±0) = ±0`; `expm1(+inf) = +inf`; `expm1(-inf) = -1`;
    /// subnormal x → x.
    ///
    /// Accuracy: measured max 0.539 ulp (2026-11-23 sweep, docs/numerics-math.md); tests assert ≤ 0.6.
    public static func expm1(_ x: Double) -> Double {
        if x.isNaN { return x }
        if Swift.abs(x) < 0x1p-54 { return x }
        if x > 40 { return exp(x) }
        if x < -40 { return -1 }
        return _expm1DD(x).0
    }

    /// `e^x − 1` for `Float`: `Float(DetMath.expm1(Double(x)))`.
    ///
    /// Edge Cases: as the `Double` version.
    ///
    /// Accuracy: ≤ 0.5 ulp + 2^-29 ulp.
    public static func expm1(_ x: Float) -> Float { Float(expm1(Double(x))) }

    /// `2^(j/64)`, j = 0…63, as double-double pairs `(hi, lo)` (mpmath, 2000 bits, rounded).
    @usableFromInline
    static let _expTable: [Double] = [
        0x1.0000000000000p+0, 0.0, 0x1.02c9a3e778061p+0, -0x1.19083535b085dp-56,
        0x1.059b0d3158574p+0, 0x1.d73e2a475b465p-55, 0x1.0874518759bc8p+0, 0x1.186be4bb284ffp-57,
        0x1.0b5586cf9890fp+0, 0x1.8a62e4adc610bp-54, 0x1.0e3ec32d3d1a2p+0, 0x1.03a1727c57b53p-59,
        0x1.11301d0125b51p+0, -0x1.6c51039449b3ap-54, 0x1.1429aaea92de0p+0, -0x1.32fbf9af1369ep-54,
        0x1.172b83c7d517bp+0, -0x1.19041b9d78a76p-55, 0x1.1a35beb6fcb75p+0, 0x1.e5b4c7b4968e4p-55,
        0x1.1d4873168b9aap+0, 0x1.e016e00a2643cp-54, 0x1.2063b88628cd6p+0, 0x1.dc775814a8495p-55,
        0x1.2387a6e756238p+0, 0x1.9b07eb6c70573p-54, 0x1.26b4565e27cddp+0, 0x1.2bd339940e9d9p-55,
        0x1.29e9df51fdee1p+0, 0x1.612e8afad1255p-55, 0x1.2d285a6e4030bp+0, 0x1.0024754db41d5p-54,
        0x1.306fe0a31b715p+0, 0x1.6f46ad23182e4p-55, 0x1.33c08b26416ffp+0, 0x1.32721843659a6p-54,
        0x1.371a7373aa9cbp+0, -0x1.63aeabf42eae2p-54, 0x1.3a7db34e59ff7p+0, -0x1.5e436d661f5e3p-56,
        0x1.3dea64c123422p+0, 0x1.ada0911f09ebcp-55, 0x1.4160a21f72e2ap+0, -0x1.ef3691c309278p-58,
        0x1.44e086061892dp+0, 0x1.89b7a04ef80d0p-59, 0x1.486a2b5c13cd0p+0, 0x1.3c1a3b69062f0p-56,
        0x1.4bfdad5362a27p+0, 0x1.d4397afec42e2p-56, 0x1.4f9b2769d2ca7p+0, -0x1.4b309d25957e3p-54,
        0x1.5342b569d4f82p+0, -0x1.07abe1db13cadp-55, 0x1.56f4736b527dap+0, 0x1.9bb2c011d93adp-54,
        0x1.5ab07dd485429p+0, 0x1.6324c054647adp-54, 0x1.5e76f15ad2148p+0, 0x1.ba6f93080e65ep-54,
        0x1.6247eb03a5585p+0, -0x1.383c17e40b497p-54, 0x1.6623882552225p+0, -0x1.bb60987591c34p-54,
        0x1.6a09e667f3bcdp+0, -0x1.bdd3413b26456p-54, 0x1.6dfb23c651a2fp+0, -0x1.bbe3a683c88abp-57,
        0x1.71f75e8ec5f74p+0, -0x1.16e4786887a99p-55, 0x1.75feb564267c9p+0, -0x1.0245957316dd3p-54,
        0x1.7a11473eb0187p+0, -0x1.41577ee04992fp-55, 0x1.7e2f336cf4e62p+0, 0x1.05d02ba15797ep-56,
        0x1.82589994cce13p+0, -0x1.d4c1dd41532d8p-54, 0x1.868d99b4492edp+0, -0x1.fc6f89bd4f6bap-54,
        0x1.8ace5422aa0dbp+0, 0x1.6e9f156864b27p-54, 0x1.8f1ae99157736p+0, 0x1.5cc13a2e3976cp-55,
        0x1.93737b0cdc5e5p+0, -0x1.75fc781b57ebcp-57, 0x1.97d829fde4e50p+0, -0x1.d185b7c1b85d1p-54,
        0x1.9c49182a3f090p+0, 0x1.c7c46b071f2bep-56, 0x1.a0c667b5de565p+0, -0x1.359495d1cd533p-54,
        0x1.a5503b23e255dp+0, -0x1.d2f6edb8d41e1p-54, 0x1.a9e6b5579fdbfp+0, 0x1.0fac90ef7fd31p-54,
        0x1.ae89f995ad3adp+0, 0x1.7a1cd345dcc81p-54, 0x1.b33a2b84f15fbp+0, -0x1.2805e3084d708p-57,
        0x1.b7f76f2fb5e47p+0, -0x1.5584f7e54ac3bp-56, 0x1.bcc1e904bc1d2p+0, 0x1.23dd07a2d9e84p-55,
        0x1.c199bdd85529cp+0, 0x1.11065895048ddp-55, 0x1.c67f12e57d14bp+0, 0x1.2884dff483cadp-54,
        0x1.cb720dcef9069p+0, 0x1.503cbd1e949dbp-56, 0x1.d072d4a07897cp+0, -0x1.cbc3743797a9cp-54,
        0x1.d5818dcfba487p+0, 0x1.2ed02d75b3707p-55, 0x1.da9e603db3285p+0, 0x1.c2300696db532p-54,
        0x1.dfc97337b9b5fp+0, -0x1.1a5cd4f184b5cp-54, 0x1.e502ee78b3ff6p+0, 0x1.39e8980a9cc8fp-55,
        0x1.ea4afa2a490dap+0, -0x1.e9c23179c2893p-54, 0x1.efa1bee615a27p+0, 0x1.dc7f486a4b6b0p-54,
        0x1.f50765b6e4540p+0, 0x1.9d3e12dd8a18bp-54, 0x1.fa7c1819e90d8p+0, 0x1.74853f3a5931ep-55,
    ]
}
