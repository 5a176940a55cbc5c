// Correctly rounded decimal → binary conversion (round to nearest, ties to even), written
// directly for each target format so that Float never double-rounds through Double.
//
// A literal is reduced to D × 10^e (D an integer of at most `maxDigits + 1` significant digits).
// Fast path (Clinger): D and 10^|e| both exact in the target type → one correctly rounded
// multiply or divide. Slow path: exact big-integer arithmetic gives a 64-bit truncated binary
// significand plus a sticky bit, which is then rounded once to the target precision.

/// A decimal literal split into its significant digits and a power of ten.
struct JSONDecimal {
    /// Digits beyond this many are folded into a single sticky digit: every midpoint between two
    /// adjacent doubles (or floats) has at most 767 significant decimal digits, so rounding is
    /// unchanged (see the explanation in `init`).
    static let maxDigits = 768

    var negative = false
    /// Significant digits (0...9), no leading or trailing zeros; empty for zero.
    var digits: [UInt8] = []
    /// value = D × 10^exponent, D being `digits` read as an integer.
    var exponent = 0

    /// Parses a JSON number literal; nil if `bytes` is not one.
    init?<C: Collection>(literal bytes: C) where C.Element == UInt8 {
        var it = bytes.makeIterator()
        var c = it.next()
        if c == UInt8(ascii: "-") { negative = true; c = it.next() }
        var adjust = 0
        var droppedNonZero = false
        var intDigits = 0
        while let d = c, d >= 0x30 && d <= 0x39 {
            let v = d - 0x30
            if intDigits == 1 && digits.isEmpty { return nil }  // leading zero ("01")
            intDigits += 1
            if digits.isEmpty && v == 0 {
                // leading zero: nothing to store
            } else if digits.count < JSONDecimal.maxDigits {
                digits.append(v)
            } else {
                adjust += 1
                if v != 0 { droppedNonZero = true }
            }
            c = it.next()
        }
        if intDigits == 0 { return nil }
        if c == UInt8(ascii: ".") {
            c = it.next()
            var fracDigits = 0
            while let d = c, d >= 0x30 && d <= 0x39 {
                let v = d - 0x30
                fracDigits += 1
                if digits.isEmpty && v == 0 {
                    adjust -= 1
                } else if digits.count < JSONDecimal.maxDigits {
                    digits.append(v)
                    adjust -= 1
                } else if v != 0 {
                    droppedNonZero = true
                }
                c = it.next()
            }
            if fracDigits == 0 { return nil }
        }
        var exp = 0
        if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            c = it.next()
            var expNegative = false
            if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                expNegative = c == UInt8(ascii: "-")
                c = it.next()
            }
            var expDigits = 0
            while let d = c, d >= 0x30 && d <= 0x39 {
                // Saturate: any exponent this large over- or underflows every format anyway.
                if exp < 100_000_000 { exp = exp * 10 + Int(d - 0x30) }  // fits Int32 (wasm32)
                expDigits += 1
                c = it.next()
            }
            if expDigits == 0 { return nil }
            if expNegative { exp = -exp }
        }
        if c != nil { return nil }
        if droppedNonZero {
            // Replace the nonzero tail by one digit 1 just below the kept digits: the true value
            // and the replacement lie strictly between the same two multiples of the last kept
            // digit's unit, an open interval that contains no midpoint (midpoints have ≤ 767
            // significant digits), so both round to the same binary value.
            digits.append(1)
            adjust -= 1
        } else {
            while let last = digits.last, last == 0 {
                digits.removeLast()
                adjust += 1
            }
        }
        exponent = digits.isEmpty ? 0 : exp + adjust
    }

    /// The value of the digits if there are at most 19 of them.
    var smallSignificand: UInt64 {
        var v: UInt64 = 0
        for d in digits { v = v &* 10 &+ UInt64(d) }
        return v
    }

    /// The correctly rounded magnitude bits of a binary format with `precision` significand bits
    /// (including the implicit bit) and exponent range emin...emax; nil when it rounds to infinity.
    func slowBits(precision p: Int, emin: Int, emax: Int) -> UInt64? {
        // Exact binary value as q × 2^E (q normalised to 64 bits) plus a sticky bit.
        var q: UInt64
        var sticky: Bool
        var bigE: Int
        var d = JSONBigUInt(decimalDigits: digits)
        if exponent >= 0 {
            d.multiplyByPowerOf5(exponent)  // value = d × 2^exponent
            let length = d.bitLength
            if length <= 64 {
                q = d.lowUInt64 << UInt64(64 - length)
                sticky = false
                bigE = exponent - (64 - length)
            } else {
                q = d.bits64(from: length - 64)
                sticky = d.hasBits(below: length - 64)
                bigE = exponent + length - 64
            }
        } else {
            let k = -exponent
            var den = JSONBigUInt(1)
            den.multiplyByPowerOf5(k)  // value = d / den × 2^-k
            // Scale so that the quotient lies in (2^62, 2^64).
            let s = 63 - d.bitLength + den.bitLength
            if s >= 0 { d.shiftLeft(s) } else { den.shiftLeft(-s) }
            let (quotient, exact) = JSONBigUInt.divide(d, by: den)
            q = quotient.lowUInt64
            sticky = !exact
            bigE = -k - s
            let lz = q.leadingZeroBitCount
            q <<= UInt64(lz)
            bigE -= lz
        }
        // Round once. (A left shift above only brings in zero bits below the rounding position;
        // the sticky bit still means "strictly more below", so the decision is unchanged.)
        let leadExponent = 63 + bigE
        if leadExponent > emax { return nil }
        var shift = 64 - p
        if leadExponent < emin { shift += emin - leadExponent }
        if shift > 64 { return 0 }  // below half the smallest subnormal
        var keep: UInt64
        let rem: UInt64
        let half: UInt64
        if shift == 64 {
            keep = 0; rem = q; half = 1 << 63
        } else {
            keep = q >> UInt64(shift)
            rem = q & ((1 << UInt64(shift)) - 1)
            half = 1 << UInt64(shift - 1)
        }
        if rem > half || (rem == half && (sticky || keep & 1 == 1)) { keep += 1 }
        var scale = bigE + shift  // value = keep × 2^scale
        if keep == UInt64(1) << UInt64(p) { keep >>= 1; scale += 1 }
        if keep >= UInt64(1) << UInt64(p - 1) {
            let unbiased = scale + p - 1
            if unbiased > emax { return nil }
            let biased = UInt64(unbiased + emax)
            return (biased << UInt64(p - 1)) | (keep & ((UInt64(1) << UInt64(p - 1)) - 1))
        }
        return keep  // subnormal (scale == emin - p + 1) or zero
    }

    private static let doublePowers: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    private static let floatPowers: [Float] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

    var double: Double? {
        let n = digits.count
        if n == 0 { return negative ? -0.0 : 0.0 }
        if n - 1 + exponent > 308 { return nil }  // ≥ 1e309
        if n + exponent <= -324 { return negative ? -0.0 : 0.0 }  // < 1e-324 < min subnormal / 2
        if n <= 15 {
            // Clinger: D < 10^15 < 2^53 and 10^|e| ≤ 10^22 are exact doubles.
            var m = smallSignificand
            var e = exponent
            if e > 22 && e <= 22 + 15 - n {
                while e > 22 { m &*= 10; e -= 1 }  // stays below 10^15
            }
            if e >= -22 && e <= 22 {
                let x = Double(m)
                let r = e >= 0 ? x * JSONDecimal.doublePowers[e] : x / JSONDecimal.doublePowers[-e]
                return negative ? -r : r
            }
        }
        guard let bits = slowBits(precision: 53, emin: -1022, emax: 1023) else { return nil }
        return Double(bitPattern: bits | (negative ? 1 << 63 : 0))
    }

    var float: Float? {
        let n = digits.count
        if n == 0 { return negative ? -0.0 : 0.0 }
        if n - 1 + exponent > 38 { return nil }  // ≥ 1e39
        if n + exponent <= -46 { return negative ? -0.0 : 0.0 }  // < 1e-46 < min subnormal / 2
        if n <= 7 {
            // Clinger in single precision: D < 10^7 < 2^24 and 10^|e| ≤ 10^10 are exact floats.
            var m = smallSignificand
            var e = exponent
            if e > 10 && e <= 10 + 7 - n {
                while e > 10 { m &*= 10; e -= 1 }
            }
            if e >= -10 && e <= 10 {
                let x = Float(m)
                let r = e >= 0 ? x * JSONDecimal.floatPowers[e] : x / JSONDecimal.floatPowers[-e]
                return negative ? -r : r
            }
        }
        guard let bits = slowBits(precision: 24, emin: -126, emax: 127) else { return nil }
        return Float(bitPattern: UInt32(truncatingIfNeeded: bits) | (negative ? 1 << 31 : 0))
    }
}
