/// An IEEE-754 binary16 value held as its bit pattern (1 sign, 5 exponent bits with bias 15,
/// 10 fraction bits; max finite 65504, min normal 2^-14, min subnormal 2^-24).
///
/// Loom does not use Swift's `Float16` (absent on some targets); every conversion here is
/// integer bit manipulation, identical everywhere.
///
/// Encoding (from `Double` or `Float`, each rounded once, directly from the given value):
/// - round to nearest, ties to even, subnormals exact;
/// - overflow to ±infinity as IEEE does: |x| ≥ 65520 (the half-way point between 65504 and
///   2^16) gives ±inf, anything smaller rounds to a finite value;
/// - ±inf → ±inf (0x7C00 / 0xFC00); ±0 keeps its sign; values that round to zero keep the sign;
/// - NaN → the quiet NaN 0x7E00 with the sign of the input (payload not kept).
///
/// Decoding to `Float`/`Double` is exact; a NaN decodes to the target's canonical quiet NaN
/// (0x7FC00000 / 0x7FF8000000000000) with the same sign.
///
/// `==` compares bit patterns (so NaN == NaN with the same bits, and +0 != −0).
public struct F16: Sendable, Equatable, Hashable {
    public var bitPattern: UInt16

    public static let canonicalNaN = F16(bitPattern: CanonicalNaN.f16)
    public static let infinity = F16(bitPattern: 0x7C00)
    public static let greatestFiniteMagnitude = F16(bitPattern: 0x7BFF)

    @inlinable public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// Rounds `x` (once) to binary16; see the type's rules.
    public init(_ x: Double) {
        let bits = x.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits &>> 48) & 0x8000
        let a = bits & 0x7FFF_FFFF_FFFF_FFFF
        if a > 0x7FF0_0000_0000_0000 { bitPattern = sign | CanonicalNaN.f16; return }
        if a == 0 { bitPattern = sign; return }
        if a == 0x7FF0_0000_0000_0000 { bitPattern = sign | 0x7C00; return }
        let m = _narrowMagnitude(a, srcFrac: 52, srcBias: 1023, dstFrac: 10, dstBias: 15)
        bitPattern = sign | UInt16(truncatingIfNeeded: m)
    }

    /// Rounds `x` (once) to binary16; see the type's rules.
    @_disfavoredOverload  // so that F16(1) picks the Double entry
    public init(_ x: Float) {
        let bits = x.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits &>> 16) & 0x8000
        let a = bits & 0x7FFF_FFFF
        if a > 0x7F80_0000 { bitPattern = sign | CanonicalNaN.f16; return }
        if a == 0 { bitPattern = sign; return }
        if a == 0x7F80_0000 { bitPattern = sign | 0x7C00; return }
        let m = _narrowMagnitude(UInt64(a), srcFrac: 23, srcBias: 127, dstFrac: 10, dstBias: 15)
        bitPattern = sign | UInt16(truncatingIfNeeded: m)
    }

    /// The exact value as a `Double` (NaN → canonical quiet NaN with the same sign).
    public var doubleValue: Double {
        let sign = UInt64(bitPattern & 0x8000) &<< 48
        let a = UInt64(bitPattern & 0x7FFF)
        return Double(bitPattern: sign | _widenMagnitude(a, srcFrac: 10, srcExpBits: 5, dstFrac: 52, dstExpBits: 11))
    }

    /// The exact value as a `Float` (NaN → canonical quiet NaN with the same sign).
    public var floatValue: Float {
        let sign = UInt32(bitPattern & 0x8000) &<< 16
        let a = UInt64(bitPattern & 0x7FFF)
        let w = _widenMagnitude(a, srcFrac: 10, srcExpBits: 5, dstFrac: 23, dstExpBits: 8)
        return Float(bitPattern: sign | UInt32(truncatingIfNeeded: w))
    }

    public var isNaN: Bool { bitPattern & 0x7FFF > 0x7C00 }
    public var isInfinite: Bool { bitPattern & 0x7FFF == 0x7C00 }
}

/// A bfloat16 value held as its bit pattern (the top 16 bits of a binary32: 1 sign, 8 exponent
/// bits with bias 127, 7 fraction bits; max finite 0x7F7F = 3.3895314e38, min normal 2^-126,
/// min subnormal 2^-133).
///
/// Encoding (from `Double` or `Float`, each rounded once, directly from the given value):
/// - round to nearest, ties to even, subnormals exact (never flushed to zero);
/// - overflow to ±infinity as IEEE does: |x| ≥ 0x1.FFp127 (half-way between the largest
///   finite value 0x1.FEp127 and 2^128) gives ±inf;
/// - ±inf → ±inf (0x7F80 / 0xFF80); ±0 keeps its sign; values that round to zero keep the sign;
/// - NaN → the quiet NaN 0x7FC0 with the sign of the input (payload not kept).
///
/// Decoding to `Float`/`Double` is exact; a NaN decodes to the target's canonical quiet NaN
/// with the same sign.
///
/// `==` compares bit patterns.
public struct BF16: Sendable, Equatable, Hashable {
    public var bitPattern: UInt16

    public static let canonicalNaN = BF16(bitPattern: CanonicalNaN.bf16)
    public static let infinity = BF16(bitPattern: 0x7F80)
    public static let greatestFiniteMagnitude = BF16(bitPattern: 0x7F7F)

    @inlinable public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// Rounds `x` (once) to bfloat16; see the type's rules.
    public init(_ x: Double) {
        let bits = x.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits &>> 48) & 0x8000
        let a = bits & 0x7FFF_FFFF_FFFF_FFFF
        if a > 0x7FF0_0000_0000_0000 { bitPattern = sign | CanonicalNaN.bf16; return }
        if a == 0 { bitPattern = sign; return }
        if a == 0x7FF0_0000_0000_0000 { bitPattern = sign | 0x7F80; return }
        let m = _narrowMagnitude(a, srcFrac: 52, srcBias: 1023, dstFrac: 7, dstBias: 127)
        bitPattern = sign | UInt16(truncatingIfNeeded: m)
    }

    /// Rounds `x` (once) to bfloat16; see the type's rules.
    @_disfavoredOverload  // so that F16(1) picks the Double entry
    public init(_ x: Float) {
        let bits = x.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits &>> 16) & 0x8000
        let a = bits & 0x7FFF_FFFF
        if a > 0x7F80_0000 { bitPattern = sign | CanonicalNaN.bf16; return }
        // Same exponent range: drop 16 bits with round to nearest even; a carry runs into the
        // exponent and up to infinity (0x7F80), as IEEE rounding requires.
        let rounded = _shiftRightNearestEven(UInt64(a), 16)
        bitPattern = sign | UInt16(truncatingIfNeeded: rounded)
    }

    /// The exact value as a `Double` (NaN → canonical quiet NaN with the same sign).
    public var doubleValue: Double {
        let sign = UInt64(bitPattern & 0x8000) &<< 48
        let a = UInt64(bitPattern & 0x7FFF)
        return Double(bitPattern: sign | _widenMagnitude(a, srcFrac: 7, srcExpBits: 8, dstFrac: 52, dstExpBits: 11))
    }

    /// The exact value as a `Float` (NaN → canonical quiet NaN with the same sign).
    public var floatValue: Float {
        if isNaN { return Float(bitPattern: (UInt32(bitPattern & 0x8000) &<< 16) | CanonicalNaN.f32) }
        return Float(bitPattern: UInt32(bitPattern) &<< 16)
    }

    public var isNaN: Bool { bitPattern & 0x7FFF > 0x7F80 }
    public var isInfinite: Bool { bitPattern & 0x7FFF == 0x7F80 }
}

/// An OCP Microscaling (MX) FP4 E2M1 code: 1 sign bit, 2 exponent bits (bias 1), 1 mantissa
/// bit, no infinities and no NaN. `code = sign << 3 | exponent << 1 | mantissa`, so the eight
/// magnitudes for codes 0…7 are 0, 0.5 (subnormal), 1, 1.5, 2, 3, 4, 6; codes 8…15 are their
/// negatives (code 8 is −0).
///
/// Encoding (from `Double`; the `Float` entry converts exactly to `Double` first):
/// - round to nearest; a tie goes to the even code (mantissa bit 0): 0.25 → 0, 0.75 → 1,
///   1.25 → 1, 1.75 → 2, 2.5 → 2, 3.5 → 4, 5 → 4;
/// - saturate: |x| > 5 (including ±inf) → ±6;
/// - the sign is kept, also for values that round to zero (−0.1 → code 8, −0);
/// - NaN → code 0 (+0), since the format has no NaN.
///
/// Packing: two codes per byte, element 2i in the low nibble, element 2i+1 in the high nibble.
public struct F4E2M1: Sendable, Equatable, Hashable {
    /// The 4-bit code, 0…15.
    public let code: UInt8

    /// The magnitudes of codes 0…7.
    public static let magnitudes: [Double] = [0, 0.5, 1, 1.5, 2, 3, 4, 6]

    /// Takes the low 4 bits of `code`.
    @inlinable public init(code: UInt8) { self.code = code & 0x0F }

    /// Rounds `x` to E2M1; see the type's rules.
    public init(_ x: Double) {
        if x.isNaN { code = 0; return }
        let sign: UInt8 = x.sign == .minus ? 8 : 0
        let a = x.magnitude
        let m: UInt8
        if a <= 0.25 { m = 0 }
        else if a < 0.75 { m = 1 }
        else if a <= 1.25 { m = 2 }
        else if a < 1.75 { m = 3 }
        else if a <= 2.5 { m = 4 }
        else if a < 3.5 { m = 5 }
        else if a <= 5 { m = 6 }
        else { m = 7 }
        code = sign | m
    }

    /// Rounds `x` to E2M1 (via the exact `Double` of `x`, so one rounding).
    @_disfavoredOverload  // so that F4E2M1(1) picks the Double entry
    public init(_ x: Float) { self.init(Double(x)) }

    /// The exact value (±0, ±0.5 … ±6).
    public var doubleValue: Double {
        let v: Double
        switch code & 7 {
        case 0: v = 0
        case 1: v = 0.5
        case 2: v = 1
        case 3: v = 1.5
        case 4: v = 2
        case 5: v = 3
        case 6: v = 4
        default: v = 6
        }
        return code & 8 != 0 ? -v : v
    }

    /// The exact value as a `Float`.
    public var floatValue: Float { Float(doubleValue) }

    /// Packs two codes in one byte: `low` in bits 0–3, `high` in bits 4–7.
    @inlinable public static func pack(low: F4E2M1, high: F4E2M1) -> UInt8 {
        low.code | (high.code &<< 4)
    }

    /// Unpacks one byte into (element 2i, element 2i+1).
    @inlinable public static func unpack(_ byte: UInt8) -> (low: F4E2M1, high: F4E2M1) {
        (F4E2M1(code: byte), F4E2M1(code: byte &>> 4))
    }
}
