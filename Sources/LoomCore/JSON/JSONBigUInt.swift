/// A small arbitrary-precision unsigned integer (little-endian base-2³² limbs) with only the
/// operations the exact decimal → binary conversion needs. Uses 64-bit arithmetic only (no
/// 128-bit helpers), so it compiles to plain i64 instructions on wasm32.
struct JSONBigUInt {
    /// Little-endian limbs with no zero limbs at the top; zero is `[]`.
    var limbs: [UInt32]

    init() { limbs = [] }

    init(_ value: UInt64) {
        limbs = []
        if value != 0 { limbs.append(UInt32(truncatingIfNeeded: value)) }
        if value >> 32 != 0 { limbs.append(UInt32(truncatingIfNeeded: value >> 32)) }
    }

    /// The integer whose decimal digits (values 0...9, most significant first) are `digits`.
    init(decimalDigits digits: [UInt8]) {
        limbs = []
        limbs.reserveCapacity(digits.count / 9 + 1)
        var i = 0
        while i < digits.count {
            let take = min(9, digits.count - i)
            var chunk: UInt32 = 0
            var scale: UInt32 = 1
            for j in i..<(i + take) {
                chunk = chunk &* 10 &+ UInt32(digits[j])
                scale = scale &* 10
            }
            multiply(by: scale, adding: chunk)
            i += take
        }
    }

    var isZero: Bool { limbs.isEmpty }

    /// Number of significant bits (0 for zero).
    var bitLength: Int {
        guard let top = limbs.last else { return 0 }
        return limbs.count * 32 - top.leadingZeroBitCount
    }

    /// The value if it has at most 64 bits (callers ensure it).
    var lowUInt64: UInt64 {
        var v: UInt64 = 0
        if limbs.count > 0 { v = UInt64(limbs[0]) }
        if limbs.count > 1 { v |= UInt64(limbs[1]) << 32 }
        return v
    }

    mutating func normalize() {
        while let top = limbs.last, top == 0 { limbs.removeLast() }
    }

    /// self = self × m + a
    mutating func multiply(by m: UInt32, adding a: UInt32 = 0) {
        var carry = UInt64(a)
        let m64 = UInt64(m)
        for i in 0..<limbs.count {
            let p = UInt64(limbs[i]) &* m64 &+ carry
            limbs[i] = UInt32(truncatingIfNeeded: p)
            carry = p >> 32
        }
        if carry != 0 { limbs.append(UInt32(truncatingIfNeeded: carry)) }
        normalize()
    }

    /// self = self × 5^k
    mutating func multiplyByPowerOf5(_ k: Int) {
        var k = k
        while k >= 13 {
            multiply(by: 1_220_703_125)  // 5^13
            k -= 13
        }
        var small: UInt32 = 1
        while k > 0 { small &*= 5; k -= 1 }
        if small != 1 { multiply(by: small) }
    }

    /// self = self × 2^bits
    mutating func shiftLeft(_ bits: Int) {
        if limbs.isEmpty || bits == 0 { return }
        let whole = bits / 32
        let part = UInt32(bits % 32)
        if part != 0 {
            var carry: UInt32 = 0
            for i in 0..<limbs.count {
                let l = limbs[i]
                limbs[i] = (l << part) | carry
                carry = l >> (32 - part)
            }
            if carry != 0 { limbs.append(carry) }
        }
        if whole > 0 {
            limbs.insert(contentsOf: [UInt32](repeating: 0, count: whole), at: 0)
        }
    }

    /// The 64 bits starting at bit `position` (bits beyond the top read as zero).
    func bits64(from position: Int) -> UInt64 {
        var result: UInt64 = 0
        for k in 0..<64 {
            let bit = position + k
            let limb = bit / 32
            if limb >= limbs.count { break }
            if (limbs[limb] >> UInt32(bit % 32)) & 1 != 0 { result |= UInt64(1) << UInt64(k) }
        }
        return result
    }

    /// Whether any of the bits below `position` is set.
    func hasBits(below position: Int) -> Bool {
        let whole = min(position / 32, limbs.count)
        for i in 0..<whole where limbs[i] != 0 { return true }
        let part = position % 32
        if part != 0 && whole < limbs.count {
            if limbs[whole] & ((UInt32(1) << UInt32(part)) &- 1) != 0 { return true }
        }
        return false
    }

    static func compare(_ a: JSONBigUInt, _ b: JSONBigUInt) -> Int {
        if a.limbs.count != b.limbs.count { return a.limbs.count < b.limbs.count ? -1 : 1 }
        var i = a.limbs.count - 1
        while i >= 0 {
            if a.limbs[i] != b.limbs[i] { return a.limbs[i] < b.limbs[i] ? -1 : 1 }
            i -= 1
        }
        return 0
    }

    /// Quotient of `a / b` (b ≠ 0) and whether the remainder is zero (Knuth, TAOCP 4.3.1 D).
    static func divide(_ a: JSONBigUInt, by b: JSONBigUInt) -> (quotient: JSONBigUInt, exact: Bool) {
        if compare(a, b) < 0 { return (JSONBigUInt(), a.isZero) }
        let n = b.limbs.count
        if n == 1 {
            let d = UInt64(b.limbs[0])
            var q = [UInt32](repeating: 0, count: a.limbs.count)
            var r: UInt64 = 0
            var i = a.limbs.count - 1
            while i >= 0 {
                let cur = (r << 32) | UInt64(a.limbs[i])
                q[i] = UInt32(truncatingIfNeeded: cur / d)
                r = cur % d
                i -= 1
            }
            var quotient = JSONBigUInt()
            quotient.limbs = q
            quotient.normalize()
            return (quotient, r == 0)
        }
        // Normalise so that the divisor's top limb has its top bit set.
        let s = UInt32(b.limbs[n - 1].leadingZeroBitCount)
        var v = b.limbs
        var u = a.limbs
        u.append(0)
        if s != 0 {
            var carry: UInt32 = 0
            for i in 0..<n {
                let l = v[i]; v[i] = (l << s) | carry; carry = l >> (32 - s)
            }
            carry = 0
            for i in 0..<u.count {
                let l = u[i]; u[i] = (l << s) | carry; carry = l >> (32 - s)
            }
        }
        let m = a.limbs.count - n
        var q = [UInt32](repeating: 0, count: m + 1)
        let vTop = UInt64(v[n - 1])
        let vNext = UInt64(v[n - 2])
        var j = m
        while j >= 0 {
            let num = (UInt64(u[j + n]) << 32) | UInt64(u[j + n - 1])
            var qhat = num / vTop
            var rhat = num % vTop
            while qhat > 0xFFFF_FFFF || qhat &* vNext > ((rhat << 32) | UInt64(u[j + n - 2])) {
                qhat -= 1
                rhat += vTop
                if rhat > 0xFFFF_FFFF { break }
            }
            // u[j...j+n] -= qhat × v
            var borrow: Int64 = 0
            var carry: UInt64 = 0
            for i in 0..<n {
                let p = qhat &* UInt64(v[i]) &+ carry
                carry = p >> 32
                let t = Int64(u[i + j]) - Int64(p & 0xFFFF_FFFF) + borrow
                u[i + j] = UInt32(truncatingIfNeeded: t)
                borrow = t >> 32
            }
            let t = Int64(u[j + n]) - Int64(carry) + borrow
            u[j + n] = UInt32(truncatingIfNeeded: t)
            if t < 0 {
                // qhat was one too large: add v back.
                qhat -= 1
                var c: UInt64 = 0
                for i in 0..<n {
                    let sum = UInt64(u[i + j]) + UInt64(v[i]) + c
                    u[i + j] = UInt32(truncatingIfNeeded: sum)
                    c = sum >> 32
                }
                u[j + n] = UInt32(truncatingIfNeeded: UInt64(u[j + n]) &+ c)
            }
            q[j] = UInt32(truncatingIfNeeded: qhat)
            j -= 1
        }
        var exact = true
        for i in 0..<n where u[i] != 0 { exact = false; break }
        var quotient = JSONBigUInt()
        quotient.limbs = q
        quotient.normalize()
        return (quotient, exact)
    }
}
