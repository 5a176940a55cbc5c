// Bit-level conversions between IEEE-754 binary formats, shared by F16 and BF16 (and used for
// the f32 <-> f64 NaN rule). Integer arithmetic only, so the result is the same on every target.

/// The canonical quiet NaNs Loom writes whenever a conversion changes format (sign bit clear).
@usableFromInline internal enum CanonicalNaN {
    @usableFromInline static let f64: UInt64 = 0x7FF8_0000_0000_0000
    @usableFromInline static let f32: UInt32 = 0x7FC0_0000
    @usableFromInline static let f16: UInt16 = 0x7E00
    @usableFromInline static let bf16: UInt16 = 0x7FC0
}

/// `v / 2^shift` rounded to nearest, ties to even (`shift` ≥ 0). Requires `v < 2^63`.
@inline(__always)
internal func _shiftRightNearestEven(_ v: UInt64, _ shift: Int) -> UInt64 {
    if shift <= 0 { return v }
    if shift >= 64 { return 0 }  // v < 2^63 ≤ half of 2^shift: rounds to 0
    let q = v &>> UInt64(shift)
    let r = v & ((1 &<< UInt64(shift)) &- 1)
    let half: UInt64 = 1 &<< UInt64(shift - 1)
    return (r > half || (r == half && q & 1 == 1)) ? q &+ 1 : q
}

/// Rounds a nonzero finite magnitude, given as the bits of a wider IEEE format (sign cleared),
/// into a narrower IEEE format whose exponent range is not wider than the source's: round to
/// nearest, ties to even, subnormals exact, overflow to infinity. Returns the destination
/// magnitude bits (the all-ones exponent with zero fraction means infinity).
///
/// - src: `srcFrac` fraction bits, exponent bias `srcBias`.
/// - dst: `dstFrac` fraction bits, exponent bias `dstBias` (all-ones exponent = 2·bias+1).
@inline(__always)
internal func _narrowMagnitude(_ a: UInt64, srcFrac: Int, srcBias: Int,
                               dstFrac: Int, dstBias: Int) -> UInt64 {
    let dstInf = UInt64(2 &* dstBias &+ 1) &<< UInt64(dstFrac)
    let e = Int(truncatingIfNeeded: a &>> UInt64(srcFrac))
    let m = a & ((1 &<< UInt64(srcFrac)) &- 1)
    // value = sig · 2^(exp − srcFrac), sig an integer
    let sig: UInt64
    let exp: Int
    if e == 0 {
        sig = m; exp = 1 &- srcBias
    } else {
        sig = m | (1 &<< UInt64(srcFrac)); exp = e &- srcBias
    }
    if exp > dstBias { return dstInf }  // |x| ≥ 2^(emax+1): beyond every finite value
    // The result's quantum is 2^(q − dstFrac) with q = max(exp, emin). A subnormal source is
    // always at or below the destination's subnormal range (the destination range is not wider).
    let emin = 1 &- dstBias
    let q = exp > emin ? exp : emin
    let shift = (srcFrac &- dstFrac) &+ (q &- exp)
    let rounded = _shiftRightNearestEven(sig, shift)
    // For a normal result `rounded` includes the implicit bit; a carry out of the fraction moves
    // into the exponent field (and up to infinity), which is exactly IEEE rounding.
    let encoded = (UInt64(q &+ dstBias &- 1) &<< UInt64(dstFrac)) &+ rounded
    return encoded < dstInf ? encoded : dstInf
}

/// Widens an IEEE magnitude (sign cleared) into a wider format, exactly. NaN becomes the
/// destination's canonical quiet NaN (sign cleared; the caller adds the sign).
@inline(__always)
internal func _widenMagnitude(_ a: UInt64, srcFrac: Int, srcExpBits: Int,
                              dstFrac: Int, dstExpBits: Int) -> UInt64 {
    let srcAllOnes = (1 &<< srcExpBits) &- 1
    let srcBias = (1 &<< (srcExpBits &- 1)) &- 1
    let dstAllOnes = UInt64((1 &<< dstExpBits) &- 1)
    let dstBias = (1 &<< (dstExpBits &- 1)) &- 1
    let e = Int(truncatingIfNeeded: a &>> UInt64(srcFrac))
    let m = a & ((1 &<< UInt64(srcFrac)) &- 1)
    let fracShift = UInt64(dstFrac &- srcFrac)
    if e == srcAllOnes {
        if m == 0 { return dstAllOnes &<< UInt64(dstFrac) }  // infinity
        return (dstAllOnes &<< UInt64(dstFrac)) | (1 &<< UInt64(dstFrac &- 1))  // quiet NaN
    }
    if e == 0 {
        if m == 0 { return 0 }
        // subnormal: m · 2^(1 − srcBias − srcFrac) = 1.f · 2^(top + 1 − srcBias − srcFrac)
        let top = 63 &- m.leadingZeroBitCount
        let exp = top &+ 1 &- srcBias &- srcFrac
        let frac = (m ^ (1 &<< UInt64(top))) &<< UInt64(dstFrac &- top)
        return (UInt64(exp &+ dstBias) &<< UInt64(dstFrac)) | frac
    }
    return (UInt64(e &- srcBias &+ dstBias) &<< UInt64(dstFrac)) | (m &<< fracShift)
}

/// Double → Float, round to nearest even (IEEE), NaN → canonical quiet NaN with the same sign.
@inline(__always)
internal func _floatFromDouble(_ x: Double) -> Float {
    if x.isNaN {
        return Float(bitPattern: CanonicalNaN.f32 | (x.sign == .minus ? 0x8000_0000 : 0))
    }
    return Float(x)
}

/// Float → Double, exact; NaN → canonical quiet NaN with the same sign.
@inline(__always)
internal func _doubleFromFloat(_ x: Float) -> Double {
    if x.isNaN {
        return Double(bitPattern: CanonicalNaN.f64 | (x.sign == .minus ? 0x8000_0000_0000_0000 : 0))
    }
    return Double(x)
}
