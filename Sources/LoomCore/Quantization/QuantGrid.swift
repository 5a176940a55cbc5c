/// The integer grid a quantized dtype stores values on (docs/numerics.md, "Quantized execution").
///
/// A vector (a weight matrix's output channel, or one row of activations) is stored as integer
/// codes `q` and a scale `s` (Double), plus a zero point `z` for the unsigned types; its value is
/// `s·(q − z)`. Every quantity is computed in binary64 from the exact value of the input:
///
/// - signed `iN`: symmetric, `a = max |x|`, `s = a / qmax` (`qmax = 2^(N−1) − 1`), code
///   `c = clamp(roundEven(x / s), −qmax, qmax)`.
/// - unsigned `uN`: asymmetric over a range that contains 0, `lo = min(0, min x)`,
///   `hi = max(0, max x)`, `s = (hi − lo) / qmax` (`qmax = 2^N − 1`), `z = clamp(roundEven(−lo / s),
///   0, qmax)`, stored `q = clamp(roundEven(x / s) + z, 0, qmax)`, centred code `c = q − z`.
/// - `f4` (E2M1): `s = a / 6`, the value `v = f4(x / s)` rounded by the f4 rule, code `c = 2·v`
///   (an integer in −12…12, so that products accumulate exactly in integers); value `(s/2)·c`.
/// - A vector whose scale would be 0 (all zeros) uses `s = 1`.
/// - 64-bit types use `qmax = 2^63 − 1024`, the largest binary64 value below 2^63: codes are
///   computed in binary64, whose 53-bit significand is the real limit of their resolution, and
///   centred codes then always fit in `Int64`.
///
/// Everything is IEEE basic operations and `rounded(.toNearestOrEven)`, so it is the same on every
/// platform. A NaN becomes code 0; a vector with a non-finite maximum gets a non-finite scale.
public struct QuantGrid: Sendable, Equatable {
    public let dtype: DType
    /// The largest code magnitude (signed), stored code (unsigned) or f4 value (6).
    public let qmax: Double

    /// The grid of a quantized dtype: every integer type and `f4`; nil for f64, f32, f16, bf16.
    public init?(_ dtype: DType) {
        self.dtype = dtype
        switch dtype {
        case .f64, .f32, .f16, .bf16: return nil
        case .f4: qmax = 6
        case .i8: qmax = 127
        case .i16: qmax = 32767
        case .i32: qmax = 2147483647
        case .u8: qmax = 255
        case .u16: qmax = 65535
        case .u32: qmax = 4294967295
        case .i64, .u64: qmax = 9223372036854774784  // 2^63 − 1024
        }
    }

    public var isUnsigned: Bool { !dtype.isSigned && dtype.isInteger }

    /// Whether products of two codes and their sums fit the 64-bit exact accumulator
    /// (|c| ≤ 65535, so K < 2^31 products sum to less than 2^63); otherwise 256-bit accumulation.
    public var isNarrow: Bool { dtype.bitWidth <= 16 }

    /// What one code unit is worth relative to the scale: 1/2 for f4 (codes are doubled values), else 1.
    public var codeUnit: Double { dtype == .f4 ? 0.5 : 1 }

    /// Quantizes the `count` values `x[0], x[stride], …` into `codes[0..<count]` and returns the
    /// vector's scale per code unit (`value = scale·code`).
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func quantize<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, count: Int, stride: Int,
                                                 into codes: UnsafeMutablePointer<Int64>) -> Double {
        if isUnsigned {
            var lo = 0.0, hi = 0.0
            for i in 0..<count {
                let v = Double(x[i * stride])
                if v < lo { lo = v }
                if v > hi { hi = v }
            }
            var s = (hi - lo) / qmax
            if s == 0 { s = 1 }
            let z = QuantGrid.clamp((-lo / s).rounded(.toNearestOrEven), 0, qmax)
            let zi = s.isFinite ? Int64(z) : 0
            for i in 0..<count {
                let r = (Double(x[i * stride]) / s).rounded(.toNearestOrEven)
                codes[i] = s.isFinite && !r.isNaN ? Int64(QuantGrid.clamp(r + z, 0, qmax)) - zi : 0
            }
            return s
        }
        var a = 0.0
        for i in 0..<count {
            let v = Double(x[i * stride]).magnitude
            if v > a { a = v }
        }
        var s = a / qmax
        if s == 0 { s = 1 }
        if dtype == .f4 {
            for i in 0..<count {
                codes[i] = s.isFinite ? Int64(2 * DType.roundTrip(Double(x[i * stride]) / s, through: .f4)) : 0
            }
            return s * 0.5
        }
        for i in 0..<count {
            codes[i] = s.isFinite ? Int64(QuantGrid.clamp((Double(x[i * stride]) / s).rounded(.toNearestOrEven), -qmax, qmax)) : 0
        }
        return s
    }

    /// `v` limited to [lo, hi]; NaN becomes 0 (every grid contains 0).
    @inline(__always) static func clamp(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
        if v.isNaN { return 0 }
        return Swift.min(Swift.max(v, lo), hi)
    }

    /// Rounds `count` values in place to this grid (quantize, then `T(Double(c)·scale)`), the
    /// values a stored-and-read-back vector has. `scratch` holds at least `count` codes.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func fakeQuantize<T: BinaryFloatingPoint>(_ x: UnsafeMutablePointer<T>, count: Int, stride: Int = 1,
                                                     scratch: UnsafeMutablePointer<Int64>) {
        let s = quantize(UnsafePointer(x), count: count, stride: stride, into: scratch)
        for i in 0..<count { x[i * stride] = T(Double(scratch[i]) * s) }
    }
}
