// Scalar conversions between Double/Float and every DType's storage code.

/// `x` rounded to an integral value, ties to even, by exact IEEE additions only (no `rint`
/// from the platform's libm): for |x| < 2^52, (|x| + 2^52) − 2^52 rounds |x| once in the
/// current (round-to-nearest-even) mode and the subtraction is exact; larger |x| are integral.
@inlinable @inline(__always)
internal func _roundedToNearestEven(_ x: Double) -> Double {
    let a = x.magnitude
    if !(a < 0x1p52) { return x }  // integral already, ±inf, or NaN
    let r = (a + 0x1p52) - 0x1p52
    return x.sign == .minus ? -r : r
}

extension DType {
    /// `x` rounded to the nearest integer, ties to even, then saturated to `I`'s range;
    /// NaN → 0. Never traps: ±inf → `I.max`/`I.min`, and an out-of-range value (including
    /// `Double(Int64.max)`, which is 2^63) gives the nearest end of the range.
    ///
    /// Rounding is IEEE roundToIntegralTiesToEven (the value of `x.rounded(.toNearestOrEven)`,
    /// computed without libm): 0.5 → 0, 1.5 → 2, 2.5 → 2, −0.5 → 0, −1.5 → −2. For unsigned
    /// types every negative value that rounds below 0 gives 0.
    @inlinable
    public static func saturatingInteger<I: FixedWidthInteger>(_ x: Double, as type: I.Type = I.self) -> I {
        if x.isNaN { return 0 }
        let r = _roundedToNearestEven(x)
        // Double(I.min) is exact (0 or −2^(n−1)). Double(I.max) is exact for n ≤ 53 and rounds
        // up to 2^n (2^(n−1) when signed) above: any integral r ≥ it is out of range or equal
        // to I.max, and any integral r below it fits.
        if r <= Double(I.min) { return I.min }
        if r >= Double(I.max) { return I.max }
        return I(r)
    }

    /// `Float` version of `saturatingInteger(_:as:)` (same rules; `Float` → `Double` is exact).
    @inlinable
    public static func saturatingInteger<I: FixedWidthInteger>(_ x: Float, as type: I.Type = I.self) -> I {
        saturatingInteger(Double(x), as: type)
    }

    /// The storage code of `x` in this dtype, in the low `bitWidth` bits (signed integers in
    /// two's complement, floats as their IEEE/E2M1 bit pattern):
    /// - f64: the bits of `x` unchanged (NaN payload kept);
    /// - f32: `Float(x)`, round to nearest even, overflow to ±inf, subnormals kept; NaN → quiet
    ///   NaN 0x7FC00000 with the sign of `x`;
    /// - f16, bf16, f4: see `F16`, `BF16`, `F4E2M1`;
    /// - integers: `saturatingInteger(_:as:)`.
    public func storageBits(_ x: Double) -> UInt64 {
        switch self {
        case .f64: return x.bitPattern
        case .f32: return UInt64(_floatFromDouble(x).bitPattern)
        case .f16: return UInt64(F16(x).bitPattern)
        case .bf16: return UInt64(BF16(x).bitPattern)
        case .f4: return UInt64(F4E2M1(x).code)
        case .i64: return UInt64(bitPattern: DType.saturatingInteger(x, as: Int64.self))
        case .i32: return UInt64(UInt32(bitPattern: DType.saturatingInteger(x, as: Int32.self)))
        case .i16: return UInt64(UInt16(bitPattern: DType.saturatingInteger(x, as: Int16.self)))
        case .i8: return UInt64(UInt8(bitPattern: DType.saturatingInteger(x, as: Int8.self)))
        case .u64: return DType.saturatingInteger(x, as: UInt64.self)
        case .u32: return UInt64(DType.saturatingInteger(x, as: UInt32.self))
        case .u16: return UInt64(DType.saturatingInteger(x, as: UInt16.self))
        case .u8: return UInt64(DType.saturatingInteger(x, as: UInt8.self))
        }
    }

    /// The storage code of `x` in this dtype. f32 keeps the bits of `x`; f64 is the exact
    /// `Double(x)` (NaN → quiet NaN 0x7FF8000000000000 with the sign of `x`); the other types
    /// round `x` once, with the same rules as `storageBits(_: Double)` (F16 and BF16 round
    /// directly from the `Float`; F4 and the integers from its exact `Double`).
    public func storageBits(_ x: Float) -> UInt64 {
        switch self {
        case .f64: return _doubleFromFloat(x).bitPattern
        case .f32: return UInt64(x.bitPattern)
        case .f16: return UInt64(F16(x).bitPattern)
        case .bf16: return UInt64(BF16(x).bitPattern)
        default: return storageBits(Double(x))
        }
    }

    /// The value of a storage code (bits above `bitWidth` are ignored), as a `Double`.
    /// Exact for every dtype except i64/u64 beyond 2^53, which round to nearest even
    /// (`Double(Int64)`). f32 → f64 turns NaN into the canonical quiet NaN with the same sign;
    /// f64 returns the bits unchanged.
    public func doubleValue(storageBits b: UInt64) -> Double {
        switch self {
        case .f64: return Double(bitPattern: b)
        case .f32: return _doubleFromFloat(Float(bitPattern: UInt32(truncatingIfNeeded: b)))
        case .f16: return F16(bitPattern: UInt16(truncatingIfNeeded: b)).doubleValue
        case .bf16: return BF16(bitPattern: UInt16(truncatingIfNeeded: b)).doubleValue
        case .f4: return F4E2M1(code: UInt8(truncatingIfNeeded: b)).doubleValue
        case .i64: return Double(Int64(bitPattern: b))
        case .i32: return Double(Int32(truncatingIfNeeded: b))
        case .i16: return Double(Int16(truncatingIfNeeded: b))
        case .i8: return Double(Int8(truncatingIfNeeded: b))
        case .u64: return Double(b)
        case .u32: return Double(UInt32(truncatingIfNeeded: b))
        case .u16: return Double(UInt16(truncatingIfNeeded: b))
        case .u8: return Double(UInt8(truncatingIfNeeded: b))
        }
    }

    /// The value of a storage code as a `Float`. Exact for f32, f16, bf16, f4, i16, i8, u16, u8;
    /// f64 rounds to nearest even (overflow to ±inf, NaN → canonical quiet NaN with the same
    /// sign); i32, u32, i64, u64 round to nearest even (`Float(Int64)` semantics, e.g.
    /// 16777217 → 16777216, `Int64.max` → 2^63).
    public func floatValue(storageBits b: UInt64) -> Float {
        switch self {
        case .f64: return _floatFromDouble(Double(bitPattern: b))
        case .f32: return Float(bitPattern: UInt32(truncatingIfNeeded: b))
        case .f16: return F16(bitPattern: UInt16(truncatingIfNeeded: b)).floatValue
        case .bf16: return BF16(bitPattern: UInt16(truncatingIfNeeded: b)).floatValue
        case .f4: return F4E2M1(code: UInt8(truncatingIfNeeded: b)).floatValue
        case .i64: return Float(Int64(bitPattern: b))
        case .i32: return Float(Int32(truncatingIfNeeded: b))
        case .i16: return Float(Int16(truncatingIfNeeded: b))
        case .i8: return Float(Int8(truncatingIfNeeded: b))
        case .u64: return Float(b)
        case .u32: return Float(UInt32(truncatingIfNeeded: b))
        case .u16: return Float(UInt16(truncatingIfNeeded: b))
        case .u8: return Float(UInt8(truncatingIfNeeded: b))
        }
    }

    /// What `x` becomes when stored as `dtype` and read back as a `Double`:
    /// `dtype.doubleValue(storageBits: dtype.storageBits(x))`.
    public static func roundTrip(_ x: Double, through dtype: DType) -> Double {
        dtype.doubleValue(storageBits: dtype.storageBits(x))
    }

    /// What `x` becomes when stored as `dtype` and read back as a `Float`:
    /// `dtype.floatValue(storageBits: dtype.storageBits(x))`. Through f64 this is `x` itself
    /// (NaN → canonical quiet NaN); through i32/i64/u32/u64 the integer is rounded back to
    /// `Float` (nearest even).
    public static func roundTrip(_ x: Float, through dtype: DType) -> Float {
        dtype.floatValue(storageBits: dtype.storageBits(x))
    }
}
