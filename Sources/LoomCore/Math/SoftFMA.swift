// Software fused multiply-add, correctly rounded, with no hardware FMA and no `addingProduct`.

/// Correctly rounded fused multiply-add `a·b + c` (one rounding, IEEE round to nearest even)
/// implemented in software.
///
/// WebAssembly has no fused multiply-add instruction, and LLVM lowers Swift's `addingProduct`
/// there to calls to C `fma`/`fmaf`; the wasm build exports these functions under those names
/// (`SoftFMA+WasmExports.swift`). Nothing in this type uses `addingProduct`, so it can never
/// call itself.
public enum SoftFMA {
    /// Exact 64×64 → 128-bit unsigned product `(high, low)` built from 32-bit halves, so it never
    /// lowers to a runtime helper (e.g. `__multi3` on wasm32).
    @inline(__always) @usableFromInline
    static func _mulWide64(_ a: UInt64, _ b: UInt64) -> (UInt64, UInt64) {
        let a0 = a & 0xFFFF_FFFF, a1 = a >> 32
        let b0 = b & 0xFFFF_FFFF, b1 = b >> 32
        let p00 = a0 &* b0, p01 = a0 &* b1, p10 = a1 &* b0, p11 = a1 &* b1
        let mid = (p00 >> 32) &+ (p01 & 0xFFFF_FFFF) &+ (p10 & 0xFFFF_FFFF)
        let lo = (mid << 32) | (p00 & 0xFFFF_FFFF)
        let hi = p11 &+ (p01 >> 32) &+ (p10 >> 32) &+ (mid >> 32)
        return (hi, lo)
    }

    /// `a·b + c` rounded once to `Float`.
    ///
    /// Algorithm: `p = Double(a)·Double(b)` is exact (48-bit product); `(s, e) = TwoSum(p, c)`
    /// in Double; if `e != 0` and `s` has an even last bit, `s` moves one ulp toward `e`
    /// (round-to-odd, valid since 53 ≥ 2·24 + 2); finally `Float(s)` rounds once to nearest even.
    /// Non-finite inputs use `Float(Double(a)·Double(b) + Double(c))` (exact product, so the
    /// special-value result is the IEEE one).
    ///
    /// Edge Cases: NaN in → NaN; `inf·0` → NaN; `inf − inf` → NaN; exact zero results are +0
    /// except `(−0) + (−0)`; subnormal results and overflow to ±inf are rounded correctly.
    ///
    /// Accuracy: correctly rounded (bit-identical to hardware `fmaf`).
    public static func fma(_ a: Float, _ b: Float, _ c: Float) -> Float {
        let p = Double(a) * Double(b)
        let cd = Double(c)
        if !p.isFinite || !c.isFinite { return Float(p + cd) }
        let s = p + cd
        let bb = s - p
        let e = (p - (s - bb)) + (cd - bb)
        if e != 0 && (s.bitPattern & 1) == 0 {
            // Move s one ulp toward the exact sum (its magnitude grows iff e has s's sign).
            let up = (e > 0) == (s > 0)
            let bits = up ? s.bitPattern &+ 1 : s.bitPattern &- 1
            return Float(Double(bitPattern: bits))
        }
        return Float(s)
    }

    /// `a·b + c` rounded once to `Double`.
    ///
    /// Algorithm: integer arithmetic. Specials first (non-finite `a`/`b` → `a*b + c`; non-finite
    /// `c` → `c`; zero `a` or `b` → `a*b + c` (exact signed-zero product); zero `c` → `a*b`).
    /// Otherwise the significands (normalised to 53 bits) give the exact 106-bit product; product
    /// and `c` are placed as 128-bit integers with their leading bit at bit 125, the smaller one
    /// is shifted right with a sticky bit, they are added or subtracted, and the 128-bit result
    /// is rounded to nearest even at the position that gives 53 bits (or the subnormal grid
    /// 2^-1074), then assembled into a bit pattern (overflow → ±inf).
    ///
    /// Edge Cases: as IEEE `fusedMultiplyAdd`: NaN propagation, `inf·0 + c` → NaN, exact zero
    /// sums → +0 (−0 only for `(−0) + (−0)`), subnormal results, overflow to ±inf.
    ///
    /// Accuracy: correctly rounded (bit-identical to hardware `fma`).
    public static func fma(_ a: Double, _ b: Double, _ c: Double) -> Double {
        if !a.isFinite || !b.isFinite { return a * b + c }
        if !c.isFinite { return c }
        if a == 0 || b == 0 { return a * b + c }
        if c == 0 { return a * b }
        let (ma, ea) = _unpack(a)
        let (mb, eb) = _unpack(b)
        let (mc, ec) = _unpack(c)
        let signP = (a.bitPattern ^ b.bitPattern) >> 63
        let signC = c.bitPattern >> 63
        // Product: 105 or 106 bits; move its leading bit to bit 125.
        var (ph, pl) = _mulWide64(ma, mb)
        var eP = ea + eb
        let shiftP = (ph >> 41) != 0 ? 20 : 21   // leading bit at 105 or 104
        ph = (ph << UInt64(shiftP)) | (pl >> UInt64(64 - shiftP))
        pl = pl << UInt64(shiftP)
        eP -= shiftP
        // c: 53 bits, leading bit 52 → 125.
        let ch = mc << 9, cl: UInt64 = 0
        let eC = ec - 73
        // X = operand with the larger exponent, Y shifted right with sticky.
        var xh = ph, xl = pl, yh = ch, yl = cl, sx = signP, sy = signC, e0 = eP
        var d = eP - eC
        if d < 0 {
            swap(&xh, &yh); swap(&xl, &yl); swap(&sx, &sy); e0 = eC; d = -d
        }
        (yh, yl) = _shiftRightSticky(yh, yl, d)
        var rh: UInt64, rl: UInt64, sign: UInt64
        if sx == sy {
            let (l, o) = xl.addingReportingOverflow(yl)
            rl = l; rh = xh &+ yh &+ (o ? 1 : 0); sign = sx
        } else if xh > yh || (xh == yh && xl >= yl) {
            let (l, o) = xl.subtractingReportingOverflow(yl)
            rl = l; rh = xh &- yh &- (o ? 1 : 0); sign = sx
        } else {
            let (l, o) = yl.subtractingReportingOverflow(xl)
            rl = l; rh = yh &- xh &- (o ? 1 : 0); sign = sy
        }
        if rh == 0 && rl == 0 { return 0 }
        let lz = rh != 0 ? rh.leadingZeroBitCount : 64 + rl.leadingZeroBitCount
        let lead = 127 - lz                      // position of the leading bit
        var s = lead - 52
        if -1074 - e0 > s { s = -1074 - e0 }
        var q: UInt64
        if s <= 0 {
            q = rl << UInt64(-s)                  // exact: the value has at most 53 bits
        } else if s > lead + 1 {
            q = 0                                 // below half of the smallest subnormal
        } else if s == lead + 1 {
            // value in [half, 1) units of the last place: round up unless exactly half.
            let isHalf = lead >= 64 ? (rl == 0 && rh == (1 << UInt64(lead - 64)))
                                    : (rh == 0 && rl == (1 << UInt64(lead)))
            q = isHalf ? 0 : 1
        } else {
            // q = R >> s, remainder compared with half = 2^(s-1).
            q = _shiftRight(rh, rl, s).1         // < 2^54, fits in the low word
            let (mh, ml) = _lowMask(s)
            let remH = rh & mh, remL = rl & ml
            let (hh, hl) = _bit(s - 1)
            let above = remH > hh || (remH == hh && remL > hl)
            let tie = remH == hh && remL == hl
            if above || (tie && (q & 1) == 1) { q = q &+ 1 }
        }
        var E = e0 + s
        if q == (1 << 53) { q = 1 << 52; E += 1 }
        let signBit = sign << 63
        if q == 0 { return Double(bitPattern: signBit) }
        if E > 971 { return Double(bitPattern: signBit | 0x7FF0_0000_0000_0000) }
        let bits = (UInt64(truncatingIfNeeded: E + 1074) << 52) &+ q
        return Double(bitPattern: signBit | bits)
    }

    /// Finite nonzero `x` → (53-bit significand with bit 52 set, exponent) with |x| = m·2^e.
    @inline(__always)
    static func _unpack(_ x: Double) -> (UInt64, Int) {
        let bits = x.bitPattern
        let ef = Int(truncatingIfNeeded: (bits >> 52) & 0x7FF)
        var m = bits & 0x000F_FFFF_FFFF_FFFF
        var e: Int
        if ef == 0 {
            e = -1074
            let shift = m.leadingZeroBitCount - 11
            m = m << UInt64(shift)
            e -= shift
        } else {
            m |= 0x0010_0000_0000_0000
            e = ef - 1075
        }
        return (m, e)
    }

    /// 128-bit logical right shift by `n >= 0` (n >= 128 gives 0).
    @inline(__always)
    static func _shiftRight(_ h: UInt64, _ l: UInt64, _ n: Int) -> (UInt64, UInt64) {
        if n == 0 { return (h, l) }
        if n >= 128 { return (0, 0) }
        if n >= 64 { return (0, h >> UInt64(n - 64)) }
        return (h >> UInt64(n), (l >> UInt64(n)) | (h << UInt64(64 - n)))
    }

    /// 128-bit right shift by `n >= 0`; if any 1 bit is shifted out, bit 0 of the result is set.
    @inline(__always)
    static func _shiftRightSticky(_ h: UInt64, _ l: UInt64, _ n: Int) -> (UInt64, UInt64) {
        if n == 0 { return (h, l) }
        let (rh, rl) = _shiftRight(h, l, n)
        let (mh, ml) = _lowMask(n)
        let sticky: UInt64 = ((h & mh) | (l & ml)) != 0 ? 1 : 0
        return (rh, rl | sticky)
    }

    /// Mask of the low `n` bits of a 128-bit number (0 <= n; n >= 128 gives all ones).
    @inline(__always)
    static func _lowMask(_ n: Int) -> (UInt64, UInt64) {
        if n <= 0 { return (0, 0) }
        if n >= 128 { return (~0, ~0) }
        if n >= 64 { return (n == 64 ? 0 : (~0 as UInt64) >> UInt64(128 - n), ~0) }
        return (0, (~0 as UInt64) >> UInt64(64 - n))
    }

    /// The 128-bit number 2^n, 0 <= n < 128.
    @inline(__always)
    static func _bit(_ n: Int) -> (UInt64, UInt64) {
        n >= 64 ? (1 << UInt64(n - 64), 0) : (0, 1 << UInt64(n))
    }
}
