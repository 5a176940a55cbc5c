// erf.

extension DetMath {
    @usableFromInline static let _twoOverSqrtPiHi: Double = 0x1.20dd750429b6dp+0
    @usableFromInline static let _twoOverSqrtPiLo: Double = 0x1.1ae3a914fed80p-56

    /// Error function `erf(x) = 2/√π ∫₀ˣ e^(−t²) dt`.
    ///
    /// Algorithm (on `a = |x|`, sign restored at the end since erf is odd):
    /// - `a < 0.5`: `z = x·x`, `g(z)` a degree-9 polynomial (Horner with fma, coefficients
    ///   `_erfSmall`, highest degree first) with `erf(x) ≈ x·(2/√π + z·g(z))`; result
    ///   `fma(x, A0hi, x·(A0lo + z·g))`, `A0hi + A0lo = 2/√π`.
    /// - `0.5 <= a < 6`: cell `i = Int((a − 0.5)·4)` (22 cells of width 1/4), centre
    ///   `c = 0.625 + i/4`, `t = a − c` (exact); `Q(t)` a polynomial of degree ≤ 11 (padded to 12
    ///   coefficients with leading zeros) with `erf(c + t) ≈ erf(c) + t·Q(t)`; result
    ///   `E0hi + fma(t, Q, E0lo)` where `E0hi + E0lo = erf(c)` (double-double).
    /// - `a >= 6`: `1` (erfc(6) < 2^-55).
    /// Coefficients: Chebyshev interpolation (near-minimax) computed with mpmath at 160 bits,
    /// each polynomial fitted to `g` or `Q` directly and rounded to double; worst rounded-fit error
    /// 2^-57.6 absolute (cell 0), 2^-58.4 relative (small range).
    ///
    /// Edge Cases: NaN → NaN; `erf(±0) = ±0`; `erf(±inf) = ±1`; subnormal x → `x·2/√π` rounded.
    ///
    /// Accuracy: measured max 0.694 ulp (2026-11-23 sweep, docs/numerics-math.md); tests assert ≤ 0.75.
    public static func erf(_ x: Double) -> Double {
        if x.isNaN { return x }
        let a = Swift.abs(x)
        if a >= 6 { return x < 0 ? -1 : 1 }
        if a < 0.5 {
            let z = x * x
            var g = _erfSmall[0]
            for k in 1..<10 { g = _erfSmall[k].addingProduct(g, z) }
            return (x * (_twoOverSqrtPiLo + z * g)).addingProduct(x, _twoOverSqrtPiHi)
        }
        let i = Int((a - 0.5) * 4)
        let t = a - (0.625 + 0.25 * Double(i))
        let base = 14 &* i
        var q = _erfTable[base &+ 2]
        for k in 3..<14 { q = _erfTable[base &+ k].addingProduct(q, t) }
        let r = _erfTable[base] + _erfTable[base &+ 1].addingProduct(t, q)
        return x < 0 ? -r : r
    }

    /// Error function for `Float`: `Float(DetMath.erf(Double(x)))`.
    ///
    /// Edge Cases: as the `Double` version.
    ///
    /// Accuracy: ≤ 0.5 ulp + 2^-29 ulp.
    public static func erf(_ x: Float) -> Float { Float(erf(Double(x))) }

    /// erf(x)/x = 2/√π + z·g(z), z = x², 0 ≤ z ≤ 1/4: coefficients of g, highest degree first.
    @usableFromInline
    static let _erfSmall: [Double] = [
        0x1.cac885b9d0bf4p-27, -0x1.5dd2fcc1206e6p-23, 0x1.b9d7967f8dcd5p-20, -0x1.f4d2063d89718p-17, 0x1.f9a325cbffcaap-14,
        -0x1.c02db3fdbb984p-11, 0x1.565bcd0e673b1p-8, -0x1.b82ce31288b13p-6, 0x1.ce2f21a042be2p-4, -0x1.812746b0379e7p-2,
    ]
    /// Per cell: erf(c) hi, lo; then 12 coefficients of Q, highest degree first.
    @usableFromInline
    static let _erfTable: [Double] = [
        // interval centre 0.625
        0x1.3f196dcd0f135p-1, -0x1.f25f4f6fdf70bp-56,
        0x1.5670f4c4d140bp-15, 0x1.61097834adbfdp-11, -0x1.8114efd2322c7p-11, -0x1.dc3889d810d90p-9,
        0x1.b62f4a8df5f24p-8, 0x1.c7cd9ab14a5eep-7, -0x1.52b2668e89228p-5, -0x1.c1242dff5208fp-6,
        0x1.6963c8a39d697p-3, -0x1.c8105021684b6p-5, -0x1.e8a3c39181e85p-2, 0x1.86e9694134b9ep-1,
        // interval centre 0.875
        0x1.91724951b8fc6p-1, -0x1.27912dd352f8bp-55,
        -0x1.91d51170074a9p-13, 0x1.9792cf62e415bp-12, 0x1.d6e11ae012479p-11, -0x1.aae160aa13dabp-9,
        -0x1.e3f4ce2946f9ap-10, 0x1.30ac215e3e32cp-6, -0x1.53bb4a5b587ccp-7, -0x1.1350f4b216313p-4,
        0x1.cc60567d78c6fp-4, 0x1.7c9d756a11577p-4, -0x1.d62beb64e8441p-2, 0x1.0cab61f084b93p-1,
        // interval centre 1.125
        0x1.c6dad2829ec62p-1, -0x1.ab76d4cba3d05p-57,
        -0x1.27d0f6161b23cp-13, -0x1.6e432174e4fb9p-13, 0x1.2e51dea55d8c1p-10, -0x1.79bb2c79f597dp-12,
        -0x1.8b43c3f080ae2p-8, 0x1.3acc78f6568cfp-7, 0x1.fd1c6c11c8ccap-7, -0x1.f65d15f1f9ca6p-5,
        0x1.ca5083167a2abp-6, 0x1.4cb3cf0aa0bd5p-3, -0x1.6ea6cf452e838p-2, 0x1.45e99bcbb7915p-2,
        // interval centre 1.375
        0x1.e5768c3b4a3fcp-1, 0x1.8b62674f89890p-57,
        0.0, -0x1.61b2324a35cc0p-12, 0x1.54967b580071dp-12, 0x1.9da1f4302e1fbp-10,
        -0x1.174098bd70b71p-8, -0x1.73ffa66fefd72p-10, 0x1.6b16f54fecf13p-6, -0x1.f572c4c8ed341p-6,
        -0x1.f3b8d52d4ecabp-6, 0x1.4374d82e04c76p-3, -0x1.dfbbadedf5d24p-3, 0x1.5ce595c455b0ap-3,
        // interval centre 1.625
        0x1.f4f693b67bd77p-1, -0x1.3a1ee1406c356p-56,
        0.0, -0x1.07e9ec0f2201dp-13, -0x1.71521c1b4bf4bp-12, 0x1.71cda86b76955p-10,
        -0x1.2e4bd378fd609p-11, -0x1.954ab10a74fc6p-8, 0x1.d857f3a19faaap-7, -0x1.17d430bd39f0dp-9,
        -0x1.974c03688e991p-5, 0x1.d6631e1a28e9bp-4, -0x1.0bcfca21947bcp-3, 0x1.499d478bca735p-4,
        // interval centre 1.875
        0x1.fbe61eef4cf6ap-1, 0x1.15ded88667618p-55,
        0.0, 0x1.318212d94eda4p-14, -0x1.977bc87a93dc7p-12, 0x1.7bde3547ce62dp-12,
        0x1.76fdb76e846b3p-10, -0x1.42fcbb10deec6p-8, 0x1.0d099d315d932p-8, 0x1.779b1e57298d0p-7,
        -0x1.5a316520c8606p-5, 0x1.143d1c6f4f084p-4, -0x1.01a1c847fa1edp-4, 0x1.12ceb37ff9bc3p-5,
        // interval centre 2.125
        0x1.fea4218d6594ap-1, -0x1.e3333d8f7d98cp-58,
        0.0, 0x1.8c50550b68709p-14, -0x1.02cf85aa9e015p-13, -0x1.2fd9a86175f69p-12,
        0x1.6aa36bc1329a4p-10, -0x1.ea03bbcfd86cdp-10, -0x1.dd78ef403077cp-10, 0x1.9973b48a096d0p-7,
        -0x1.afe553fa379dbp-6, 0x1.0ea475da3be73p-5, -0x1.ada873606f0d4p-6, 0x1.94624e78e0fafp-7,
        // interval centre 2.375
        0x1.ff9960f3eb327p-1, -0x1.08b1ca6e97f80p-56,
        0.0, 0x1.0a471107b72f1p-15, 0x1.c36cf83613078p-15, -0x1.61ed001c2109ap-12,
        0x1.377e239ff165fp-11, 0x1.0283e2ad9d3aep-13, -0x1.982b281cc1878p-9, 0x1.11dae4734b45dp-7,
        -0x1.ae59615f69558p-7, 0x1.c1ec102e36503p-7, -0x1.37ccd585f56c3p-7, 0x1.06918b6355624p-8,
        // interval centre 2.625
        0x1.ffe514bbdc197p-1, -0x1.cd963345b5c6dp-58,
        0.0, 0.0, 0x1.35189bebce5cep-14, -0x1.40dd1476dc43dp-13,
        0x1.22a6a2e323196p-15, 0x1.64f94ca0ea2a2p-11, -0x1.267f3befe964ap-9, 0x1.146c4b1cd3a5fp-8,
        -0x1.62d4c6d4917b0p-8, 0x1.407fbd1901c7cp-8, -0x1.8af14828bffc3p-9, 0x1.2ce89880923f9p-10,
        // interval centre 2.875
        0x1.fff9ba420e834p-1, 0x1.1379ec5aa630ep-56,
        0.0, 0.0, 0x1.18bdafaf8383cp-15, -0x1.1874ac470b4cfp-16,
        -0x1.1c6493087e36bp-13, 0x1.152087661ba8ap-11, -0x1.2add1ccd19a79p-10, 0x1.c11f2644cc643p-10,
        -0x1.ed4ac7daf76efp-10, 0x1.89e17c07adfc0p-10, -0x1.b5781e9d7c625p-11, 0x1.30538fbb77cdep-12,
        // interval centre 3.125
        0x1.fffeb3ebb267bp-1, 0x1.e47f697047cbap-57,
        0.0, 0.0, 0x1.0b1702029dd2cp-18, 0x1.a6d0071aad20ap-16,
        -0x1.d2adfc3aca031p-14, 0x1.176de0832283cp-12, -0x1.da496dc49ee03p-12, 0x1.2e7e7595eebf0p-11,
        -0x1.24544f02f6545p-11, 0x1.a3737e2ad6750p-12, -0x1.a8670aa99a506p-13, 0x1.0f9e1b4dd3386p-14,
        // interval centre 3.375
        0x1.ffffc316d9ed0p-1, -0x1.8b32f44f46b3bp-55,
        0.0, 0.0, -0x1.3223836d2551dp-18, 0x1.64555c901349dp-16,
        -0x1.cc16b2769c226p-15, 0x1.ac99fa42b26acp-14, -0x1.330aab07bfeeap-13, 0x1.57757741ea125p-13,
        -0x1.298f8d462e5cbp-13, 0x1.84522fe8c7e57p-14, -0x1.690585ca91e79p-15, 0x1.abe09e914488cp-17,
        // interval centre 3.625
        0x1.fffff618c3da6p-1, -0x1.19309ce23aa3ep-58,
        0.0, 0.0, -0x1.f2b0b30c1abb4p-19, 0x1.527247019d1a0p-17,
        -0x1.510a6a7e1fbe6p-16, 0x1.085b248d75e90p-15, -0x1.4b98201236b43p-15, 0x1.4c1fe5d9c430ep-15,
        -0x1.05760ad1cda65p-15, 0x1.394b1fa521c8fp-16, -0x1.0d88765d321f6p-17, 0x1.296a70f414dbcp-19,
        // interval centre 3.875
        0x1.fffffe92ced93p-1, -0x1.d2db2ecfe14aep-55,
        0.0, 0.0, -0x1.bd2332d7abd03p-20, 0x1.d57c25c263480p-19,
        -0x1.88842fe16a998p-18, 0x1.0d8979f15e016p-17, -0x1.2eb29191e9468p-17, 0x1.137175ffc3d2ep-17,
        -0x1.8e1fc4145864ep-18, 0x1.b95fa3936a78cp-19, -0x1.617a9cedd947bp-20, 0x1.6ce1aa3fdcbd8p-22,
        // interval centre 4.125
        0x1.ffffffd169d0cp-1, 0x1.70a2bfb068e6fp-55,
        0.0, 0.0, 0.0, 0x1.005cbc72102b5p-20,
        -0x1.7c1be2205d32fp-20, 0x1.cd971d52e400bp-20, -0x1.d72b7eb3f6781p-20, 0x1.89ca7efc05532p-20,
        -0x1.07601d7e35841p-20, 0x1.0fdac555165d7p-21, -0x1.9765649eed2eap-23, 0x1.8b0cfce0579e0p-25,
        // interval centre 4.375
        0x1.fffffffabd229p-1, -0x1.4dbe49bec3ef2p-57,
        0.0, 0.0, 0.0, 0x1.c9370ca1a0f2dp-23,
        -0x1.307e1e92381a6p-22, 0x1.4f58c6621bf31p-22, -0x1.3aa158f9fb569p-22, 0x1.e71041e497feap-23,
        -0x1.2f7377062e916p-23, 0x1.252af6e9879adp-24, -0x1.9cd7dca05079dp-26, 0x1.7974e743dea3dp-28,
        // interval centre 4.625
        0x1.ffffffff79626p-1, 0x1.5fbc52d650a89p-55,
        0.0, 0.0, 0.0, 0.0,
        -0x1.9b599af7c61e0p-25, 0x1.aaf9d3cc35dd7p-25, -0x1.6a27e9345395dp-25, 0x1.053bc60fcffe8p-25,
        -0x1.30fd2a5a010a4p-26, 0x1.15094c0fc9434p-27, -0x1.6fffa7e205726p-29, 0x1.3e44e3a9aadf0p-31,
        // interval centre 4.875
        0x1.fffffffff4188p-1, 0x1.7a2cb3d056eacp-55,
        0.0, 0.0, 0.0, 0.0,
        -0x1.da41da7af3703p-28, 0x1.c9537cf5d9a98p-28, -0x1.6879b99369fb6p-28, 0x1.e77851419fe7dp-29,
        -0x1.0bc715e4439c1p-29, 0x1.cb2b01e791eb0p-31, -0x1.20a2ae6b28365p-32, 0x1.d9a87f4bc8890p-35,
        // interval centre 5.125
        0x1.ffffffffff11ap-1, -0x1.3eafccbc6e8b7p-56,
        0.0, 0.0, 0.0, 0.0,
        0.0, 0x1.a4bd86c446222p-31, -0x1.43ed2c82d15cep-31, 0x1.8c47ebb8fbe43p-32,
        -0x1.9ad657c927ed6p-33, 0x1.4ded0eced3ffbp-34, -0x1.8e87549bca5acp-36, 0x1.370ab8327af5ep-38,
        // interval centre 5.375
        0x1.ffffffffffef8p-1, 0x1.14be6226402c7p-56,
        0.0, 0.0, 0.0, 0.0,
        0.0, 0x1.501c15de65d83p-34, -0x1.e874b6b95799cp-35, 0x1.1900d07633edfp-35,
        -0x1.14190ed816b01p-36, 0x1.aa76c3f8df869p-38, -0x1.e471b9fdc90e0p-40, 0x1.68823e52970bep-42,
        // interval centre 5.625
        0x1.ffffffffffff0p-1, -0x1.20ef3618f2d54p-56,
        0.0, 0.0, 0.0, 0.0,
        0.0, 0x1.d1be7c48da4f4p-38, -0x1.40ac329534eeap-38, 0x1.5c19b374cc73dp-39,
        -0x1.451d77e03d998p-40, 0x1.de75d60f4b6a5p-42, -0x1.034810a9fe914p-43, 0x1.70beaf9c7ffb6p-46,
        // interval centre 5.875
        0x1.fffffffffffffp-1, 0x1.0439397b5f70ap-56,
        0.0, 0.0, 0.0, 0.0,
        0.0, 0x1.186dad40e38bfp-41, -0x1.6f27fec2020c3p-42, 0x1.790d56ebb2041p-43,
        -0x1.4fa156d782417p-44, 0x1.d7c2be3416d17p-46, -0x1.e8e4df8d7b5afp-48, 0x1.4cd9c04158cd7p-50,
    ]
}
