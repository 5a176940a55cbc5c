// Payne–Hanek argument reduction for huge sin/cos arguments.

extension DetMath {
    @usableFromInline static let _pio2Hi: Double = 0x1.921fb54442d18p+0
    @usableFromInline static let _pio2Lo: Double = 0x1.1a62633145c07p-54

    /// Payne–Hanek reduction of finite `ax >= 2^28`: returns `(n mod 4, rh, rl)` with
    /// `ax = n·π/2 + (rh + rl)`, `|rh + rl| <= π/4`, relative error of `rh + rl` below 2^-100.
    ///
    /// Canonical steps (integer arithmetic, exact):
    /// 1. `ax = m · 2^e` with `m` the 53-bit integer significand (`e >= -24`).
    /// 2. 2/π is stored as 42 32-bit chunks `c_i` (`2/π = Σ c_i 2^(-32(i+1))`, mpmath 2000 bits).
    ///    Chunks with `i < i0 = max(0, floor((e − 2)/32))` only add multiples of 4 to `ax·2/π`
    ///    and are skipped; the window `c_{i0} … c_{i0+7}` (256 bits) is multiplied by `m`
    ///    exactly (309-bit product, 64×64→128 products from 32-bit halves).
    /// 3. The binary point of the product sits at bit `sh = 32(i0 + 8) − e`. Bits `sh, sh+1`
    ///    give `n mod 4`; the 192 bits below it are the fraction `f`. If `f >= 1/2`: `n += 1`,
    ///    `f = 1 − f` with a negative sign (192-bit two's complement).
    /// 4. `f` → double-double by summing its six 32-bit pieces (exact conversions) with twoSum;
    ///    `r = f · (π/2)` in double-double: `rh = fh·A`, `rl = fma(fh, A, −rh) + (fh·B + fl·A)`,
    ///    `fastTwoSum(rh, rl)`, with `A + B = π/2`.
    /// The omitted tail of 2/π contributes below 2^-160 to f; the worst cancellation for doubles
    /// is about 2^-62, so about 90 correct bits remain.
    @usableFromInline
    static func _payneHanek(_ ax: Double) -> (Int, Double, Double) {
        let bits = ax.bitPattern
        let m = (bits & 0x000F_FFFF_FFFF_FFFF) | 0x0010_0000_0000_0000
        let e = Int(truncatingIfNeeded: bits >> 52) - 1075
        let i0 = e >= 2 ? (e - 2) >> 5 : 0
        // 256-bit window as 4 little-endian limbs, times m: 5 little-endian limbs.
        var prod = [UInt64](repeating: 0, count: 6)
        var carry: UInt64 = 0
        for k in 0..<4 {
            let hiChunk = UInt64(_twoOverPiChunks[i0 + 6 - 2 * k])
            let loChunk = UInt64(_twoOverPiChunks[i0 + 7 - 2 * k])
            let w = (hiChunk << 32) | loChunk
            let (ph, pl) = SoftFMA._mulWide64(m, w)
            let (s, o) = pl.addingReportingOverflow(carry)
            prod[k] = s
            carry = ph &+ (o ? 1 : 0)
        }
        prod[4] = carry
        @inline(__always) func bits64(_ p: Int) -> UInt64 {
            let li = p >> 6, bo = p & 63
            let a = li < 6 ? prod[li] : 0
            if bo == 0 { return a }
            let b = li + 1 < 6 ? prod[li + 1] : 0
            return (a >> UInt64(bo)) | (b << UInt64(64 - bo))
        }
        let sh = 32 * (i0 + 8) - e
        var n = Int(truncatingIfNeeded: bits64(sh) & 3)
        var f1 = bits64(sh - 64), f2 = bits64(sh - 128), f3 = bits64(sh - 192)
        let negative = (f1 >> 63) != 0
        if negative {
            n += 1
            // (f1, f2, f3) = 2^192 − (f1, f2, f3)
            f1 = ~f1; f2 = ~f2; f3 = ~f3
            let (s3, o3) = f3.addingReportingOverflow(1)
            f3 = s3
            if o3 {
                let (s2, o2) = f2.addingReportingOverflow(1)
                f2 = s2
                if o2 { f1 = f1 &+ 1 }
            }
        }
        var h = Double(f1 >> 32) * 0x1p-32
        var l: Double = 0
        var scale: Double = 0x1p-64
        for piece in [f1 & 0xFFFF_FFFF, f2 >> 32, f2 & 0xFFFF_FFFF, f3 >> 32, f3 & 0xFFFF_FFFF] {
            let (s, t) = _twoSum(h, Double(piece) * scale)
            h = s
            l = l + t
            scale = scale * 0x1p-32
        }
        let (fh, fl) = _fastTwoSum(h, l)
        let rh0 = fh * _pio2Hi
        let rl0 = (-rh0).addingProduct(fh, _pio2Hi) + (fh * _pio2Lo + fl * _pio2Hi)
        var (rh, rl) = _fastTwoSum(rh0, rl0)
        if negative { rh = -rh; rl = -rl }
        return (n & 3, rh, rl)
    }

    /// 2/π in 32-bit chunks, most significant first (mpmath, 2000 bits).
    @usableFromInline
    static let _twoOverPiChunks: [UInt32] = [
        0xA2F9836E, 0x4E441529, 0xFC2757D1, 0xF534DDC0, 0xDB629599, 0x3C439041,
        0xFE5163AB, 0xDEBBC561, 0xB7246E3A, 0x424DD2E0, 0x06492EEA, 0x09D1921C,
        0xFE1DEB1C, 0xB129A73E, 0xE88235F5, 0x2EBB4484, 0xE99C7026, 0xB45F7E41,
        0x3991D639, 0x835339F4, 0x9C845F8B, 0xBDF9283B, 0x1FF897FF, 0xDE05980F,
        0xEF2F118B, 0x5A0A6D1F, 0x6D367ECF, 0x27CB09B7, 0x4F463F66, 0x9E5FEA2D,
        0x7527BAC7, 0xEBE5F17B, 0x3D0739F7, 0x8A5292EA, 0x6BFB5FB1, 0x1F8D5D08,
        0x56033046, 0xFC7B6BAB, 0xF0CFBC20, 0x9AF4361D, 0xA9E39161, 0x5EE61B08,
    ]
}
