// The two 8-bit floating-point formats of safetensors (F8_E4M3, F8_E5M2). They are storage
// formats for files only, not `DType` cases (DType's 13 raw values are a portable format of
// their own). Integer bit manipulation only, like LowPrecisionFloats.swift.

/// An OCP FP8 E4M3 value ("E4M3FN", PyTorch's `torch.float8_e4m3fn`, safetensors `F8_E4M3`),
/// held as its bit pattern: 1 sign, 4 exponent bits with bias 7, 3 fraction bits. There are no
/// infinities; the only NaNs are S.1111.111 (0x7F, 0xFF). Largest finite 448 (0x7E), smallest
/// normal 2^-6, smallest subnormal 2^-9.
///
/// Encoding (from `Double` or `Float`; each rounds once, from the exact value given):
/// - round to nearest, ties to even, subnormals exact;
/// - saturating, as PyTorch 2.13's `tensor.to(torch.float8_e4m3fn)` (every cast path of it):
///   a magnitude that rounds above 448, and ±inf, give ±448 (0x7E / 0xFE);
/// - NaN → NaN (0x7F / 0xFF) with the sign of the input (payload dropped);
/// - ±0 keeps its sign, and values that round to zero keep the sign.
///
/// Decoding to `Double`/`Float` is exact; a NaN decodes to the canonical quiet NaN of the target
/// with the same sign.
///
/// Edge Cases: PyTorch converts a float64 tensor through float32 (two roundings: 1.0625 + 2^-40
/// becomes 1.0 there, 1.125 here); Loom rounds a `Double` once. From a `Float` both agree on
/// every input (docs/formats.md).
public struct F8E4M3: Sendable, Equatable, Hashable {
    public var bitPattern: UInt8

    public static let canonicalNaN = F8E4M3(bitPattern: 0x7F)
    public static let greatestFiniteMagnitude = F8E4M3(bitPattern: 0x7E)

    @inlinable public init(bitPattern: UInt8) { self.bitPattern = bitPattern }

    /// Rounds `x` (once) to E4M3; see the type's rules.
    public init(_ x: Double) {
        let bits = x.bitPattern
        let sign = UInt8(truncatingIfNeeded: bits &>> 56) & 0x80
        let a = bits & 0x7FFF_FFFF_FFFF_FFFF
        if a > 0x7FF0_0000_0000_0000 { bitPattern = sign | 0x7F; return }  // NaN
        if a == 0 { bitPattern = sign; return }
        // ±inf gives UInt64.max here, so it saturates like every other overflow.
        let m = a == 0x7FF0_0000_0000_0000 ? UInt64.max : _roundToSmallFloat(a, frac: 3, bias: 7, maxExponent: 8)
        bitPattern = sign | (m > 0x7E ? 0x7E : UInt8(truncatingIfNeeded: m))
    }

    /// Rounds `x` (once) to E4M3 (the `Float` is widened exactly first).
    @_disfavoredOverload
    public init(_ x: Float) { self.init(Double(x)) }

    /// The exact value as a `Double` (NaN → canonical quiet NaN with the same sign).
    public var doubleValue: Double {
        let sign = UInt64(bitPattern & 0x80) &<< 56
        let a = UInt64(bitPattern & 0x7F)
        if a == 0x7F { return Double(bitPattern: sign | CanonicalNaN.f64) }
        return Double(bitPattern: sign | _widenSmallFloat(a, frac: 3, bias: 7))
    }

    /// The exact value as a `Float` (NaN → canonical quiet NaN with the same sign).
    public var floatValue: Float { _floatFromDouble(doubleValue) }

    public var isNaN: Bool { bitPattern & 0x7F == 0x7F }
}

/// An OCP FP8 E5M2 value (PyTorch's `torch.float8_e5m2`, safetensors `F8_E5M2`), held as its bit
/// pattern: 1 sign, 5 exponent bits with bias 15, 2 fraction bits, IEEE-like: ±inf are
/// 0x7C / 0xFC and 0x7D…0x7F (with either sign) are NaN. Largest finite 57344 (0x7B), smallest
/// normal 2^-14, smallest subnormal 2^-16.
///
/// Encoding (from `Double` or `Float`; each rounds once, from the exact value given):
/// - round to nearest, ties to even, subnormals exact;
/// - overflow to ±inf as IEEE does (and as PyTorch's `tensor.to(torch.float8_e5m2)`):
///   |x| ≥ 61440, the half-way point between 57344 and 2^16, gives ±inf;
/// - ±inf → ±inf; NaN → 0x7F with the sign of the input (PyTorch's NaN; payload dropped);
/// - ±0 keeps its sign, and values that round to zero keep the sign.
///
/// Decoding to `Double`/`Float` is exact; a NaN decodes to the canonical quiet NaN of the target
/// with the same sign.
public struct F8E5M2: Sendable, Equatable, Hashable {
    public var bitPattern: UInt8

    public static let infinity = F8E5M2(bitPattern: 0x7C)
    public static let canonicalNaN = F8E5M2(bitPattern: 0x7F)
    public static let greatestFiniteMagnitude = F8E5M2(bitPattern: 0x7B)

    @inlinable public init(bitPattern: UInt8) { self.bitPattern = bitPattern }

    /// Rounds `x` (once) to E5M2; see the type's rules.
    public init(_ x: Double) {
        let bits = x.bitPattern
        let sign = UInt8(truncatingIfNeeded: bits &>> 56) & 0x80
        let a = bits & 0x7FFF_FFFF_FFFF_FFFF
        if a > 0x7FF0_0000_0000_0000 { bitPattern = sign | 0x7F; return }
        if a == 0x7FF0_0000_0000_0000 { bitPattern = sign | 0x7C; return }
        if a == 0 { bitPattern = sign; return }
        let m = _roundToSmallFloat(a, frac: 2, bias: 15, maxExponent: 15)
        bitPattern = sign | (m >= 0x7C ? 0x7C : UInt8(truncatingIfNeeded: m))
    }

    /// Rounds `x` (once) to E5M2 (the `Float` is widened exactly first).
    @_disfavoredOverload
    public init(_ x: Float) { self.init(Double(x)) }

    /// The exact value as a `Double` (NaN → canonical quiet NaN with the same sign).
    public var doubleValue: Double {
        let sign = UInt64(bitPattern & 0x80) &<< 56
        let a = UInt64(bitPattern & 0x7F)
        if a > 0x7C { return Double(bitPattern: sign | CanonicalNaN.f64) }
        if a == 0x7C { return Double(bitPattern: sign | 0x7FF0_0000_0000_0000) }
        return Double(bitPattern: sign | _widenSmallFloat(a, frac: 2, bias: 15))
    }

    /// The exact value as a `Float` (NaN → canonical quiet NaN with the same sign).
    public var floatValue: Float { _floatFromDouble(doubleValue) }

    public var isNaN: Bool { bitPattern & 0x7F > 0x7C }
    public var isInfinite: Bool { bitPattern & 0x7F == 0x7C }
}

/// Rounds a nonzero finite binary64 magnitude `a` (sign cleared) to a small binary format with
/// `frac` fraction bits and exponent bias `bias`: nearest, ties to even, subnormals exact, with
/// no upper limit. Returns `(exponent field << frac) + fraction` (a carry out of the fraction
/// moves into the exponent); the caller decides what a code past the format's largest finite
/// value means. Magnitudes of 2^(maxExponent+1) and above return `UInt64.max`.
@inline(__always)
internal func _roundToSmallFloat(_ a: UInt64, frac: Int, bias: Int, maxExponent: Int) -> UInt64 {
    let e = Int(truncatingIfNeeded: a &>> 52)
    let m = a & 0x000F_FFFF_FFFF_FFFF
    let sig: UInt64
    let exp: Int
    if e == 0 { sig = m; exp = -1022 } else { sig = m | 0x0010_0000_0000_0000; exp = e &- 1023 }
    // value = sig · 2^(exp − 52)
    if exp > maxExponent { return UInt64.max }
    let emin = 1 &- bias
    let q = exp > emin ? exp : emin  // the result's quantum is 2^(q − frac)
    let rounded = _shiftRightNearestEven(sig, (52 &- frac) &+ (q &- exp))
    return (UInt64(q &+ bias &- 1) &<< UInt64(frac)) &+ rounded
}

/// The binary64 magnitude bits of a finite small-float magnitude `a` (sign cleared; `frac`
/// fraction bits, exponent bias `bias`), exactly.
@inline(__always)
internal func _widenSmallFloat(_ a: UInt64, frac: Int, bias: Int) -> UInt64 {
    let e = Int(truncatingIfNeeded: a &>> UInt64(frac))
    let m = a & ((1 &<< UInt64(frac)) &- 1)
    if e == 0 {
        if m == 0 { return 0 }
        // m · 2^(1 − bias − frac) = 1.f · 2^(top + 1 − bias − frac)
        let top = 63 &- m.leadingZeroBitCount
        let exp = top &+ 1 &- bias &- frac
        let f = (m ^ (1 &<< UInt64(top))) &<< UInt64(52 &- top)
        return (UInt64(exp &+ 1023) &<< 52) | f
    }
    return (UInt64(e &- bias &+ 1023) &<< 52) | (m &<< UInt64(52 &- frac))
}
