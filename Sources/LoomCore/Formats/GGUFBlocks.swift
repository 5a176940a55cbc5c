/// Dequantization of ggml block formats to Float: the canonical definitions (docs/formats.md
/// gives every layout and formula).
///
/// Every formula is IEEE binary32 arithmetic written out operation by operation, in the order of
/// the `gguf` Python package's numpy code. The products are exact for every format (scales are
/// f16, codes at most 8 bits: at most 23 significant bits), so only the final addition of a
/// minimum (Q4_1, Q5_1, Q4_K, Q5_K) rounds, once; the results equal gguf-py's bit for bit,
/// including the sign of zero. NaN payloads: an f16 NaN scale becomes the f32 NaN with the same
/// sign and payload and the quiet bit set (what x86 F16C and ARM do); a NaN scale times a code
/// gives a NaN whose payload is the platform's choice, so determinism checks compare NaNs as equal.
public enum GGUFBlocks {
    /// Decodes `blocks` blocks of `type` from `src` into `dst` (`blocks · type.blockSize` floats).
    /// Pointers may be nil only when `blocks` is 0. The caller checks that `type.canDequantize`
    /// and that the ranges are valid (GGUF's parser checks every tensor's range).
    public static func dequantize(_ type: GGMLType, _ src: UnsafeRawPointer?, blocks: Int, into dst: UnsafeMutablePointer<Float>?) {
        guard blocks > 0, let s = src, let y = dst else { return }
        let ts = type.typeSize, bs = type.blockSize
        switch type {
        case .f32: for i in 0..<blocks { y[i] = Float(bitPattern: le32(s + 4 * i)) }
        case .f16: for i in 0..<blocks { y[i] = halfToFloat(le16(s + 2 * i)) }
        case .bf16: for i in 0..<blocks { y[i] = Float(bitPattern: UInt32(le16(s + 2 * i)) << 16) }
        case .q8_0: for b in 0..<blocks { q8_0(s + b * ts, y + b * bs) }
        case .q4_0: for b in 0..<blocks { q4_0(s + b * ts, y + b * bs) }
        case .q4_1: for b in 0..<blocks { q4_1(s + b * ts, y + b * bs) }
        case .q5_0: for b in 0..<blocks { q5_0(s + b * ts, y + b * bs) }
        case .q5_1: for b in 0..<blocks { q5_1(s + b * ts, y + b * bs) }
        case .q4_K: for b in 0..<blocks { q4_K(s + b * ts, y + b * bs) }
        case .q5_K: for b in 0..<blocks { q5_K(s + b * ts, y + b * bs) }
        case .q6_K: for b in 0..<blocks { q6_K(s + b * ts, y + b * bs) }
        default: preconditionFailure("GGUFBlocks: \(type.name) is not decoded")
        }
    }

    /// One block (`type.blockSize` outputs).
    @inline(__always)
    public static func dequantizeBlock(_ type: GGMLType, _ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32: y[0] = Float(bitPattern: le32(p))
        case .f16: y[0] = halfToFloat(le16(p))
        case .bf16: y[0] = Float(bitPattern: UInt32(le16(p)) << 16)
        case .q8_0: q8_0(p, y)
        case .q4_0: q4_0(p, y)
        case .q4_1: q4_1(p, y)
        case .q5_0: q5_0(p, y)
        case .q5_1: q5_1(p, y)
        case .q4_K: q4_K(p, y)
        case .q5_K: q5_K(p, y)
        case .q6_K: q6_K(p, y)
        default: preconditionFailure("GGUFBlocks: \(type.name) is not decoded")
        }
    }

    // MARK: 32-element formats

    /// Q8_0, 34 bytes: `d` f16, `qs` 32 × i8. `y[i] = Float(qs[i]) · d`.
    @inline(__always) static func q8_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(le16(p))
        for i in 0..<32 { y[i] = Float(Int8(bitPattern: p.load(fromByteOffset: 2 + i, as: UInt8.self))) * d }
    }

    /// Q4_0, 18 bytes: `d` f16, `qs` 16 bytes; code `q[j] = qs[j] & 15`, `q[j+16] = qs[j] >> 4`.
    /// `y[i] = d · Float(q[i] − 8)`.
    @inline(__always) static func q4_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(le16(p))
        for j in 0..<16 {
            let b = p.load(fromByteOffset: 2 + j, as: UInt8.self)
            y[j] = d * Float(Int(b & 15) - 8)
            y[j + 16] = d * Float(Int(b >> 4) - 8)
        }
    }

    /// Q4_1, 20 bytes: `d` f16, `m` f16, `qs` 16 bytes (codes as Q4_0). `y[i] = (d · Float(q[i])) + m`.
    @inline(__always) static func q4_1(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(le16(p)), m = halfToFloat(le16(p + 2))
        for j in 0..<16 {
            let b = p.load(fromByteOffset: 4 + j, as: UInt8.self)
            y[j] = d * Float(b & 15) + m
            y[j + 16] = d * Float(b >> 4) + m
        }
    }

    /// Q5_0, 22 bytes: `d` f16, `qh` u32, `qs` 16 bytes; code `q[i] = nibble(i) | bit i of qh << 4`
    /// (nibbles as Q4_0). `y[i] = d · Float(q[i] − 16)`.
    @inline(__always) static func q5_0(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(le16(p)), qh = le32(p + 2)
        for j in 0..<16 {
            let b = UInt32(p.load(fromByteOffset: 6 + j, as: UInt8.self))
            let lo = (b & 15) | ((qh >> UInt32(j)) & 1) << 4
            let hi = (b >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float(Int(lo) - 16)
            y[j + 16] = d * Float(Int(hi) - 16)
        }
    }

    /// Q5_1, 24 bytes: `d` f16, `m` f16, `qh` u32, `qs` 16 bytes (codes as Q5_0, 0…31).
    /// `y[i] = (d · Float(q[i])) + m`.
    @inline(__always) static func q5_1(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(le16(p)), m = halfToFloat(le16(p + 2)), qh = le32(p + 4)
        for j in 0..<16 {
            let b = UInt32(p.load(fromByteOffset: 8 + j, as: UInt8.self))
            let lo = (b & 15) | ((qh >> UInt32(j)) & 1) << 4
            let hi = (b >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float(lo) + m
            y[j + 16] = d * Float(hi) + m
        }
    }

    // MARK: 256-element K formats

    /// The 6-bit scale and minimum of sub-block `j` (0…7) of Q4_K/Q5_K from the 12 packed bytes
    /// `s`: j < 4: `sc = s[j] & 63`, `m = s[j+4] & 63`; j ≥ 4: `sc = (s[j+4] & 15) | (s[j-4] >> 6) << 4`,
    /// `m = (s[j+4] >> 4) | (s[j] >> 6) << 4`.
    @inline(__always) public static func kScaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
        func b(_ i: Int) -> UInt8 { s.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 { return (b(j) & 63, b(j + 4) & 63) }
        return ((b(j + 4) & 15) | (b(j - 4) >> 6) << 4, (b(j + 4) >> 4) | (b(j) >> 6) << 4)
    }

    /// Q4_K, 144 bytes: `d` f16, `dmin` f16, 12 bytes of 6-bit scales/mins, `qs` 128 bytes.
    /// Sub-block j (32 elements): `D = d · Float(sc_j)`, `M = dmin · Float(m_j)`; for chunk c = j/2,
    /// code `q = qs[32c + l] & 15` (j even) or `>> 4` (j odd); `y[32j + l] = (D · Float(q)) − M`.
    @inline(__always) static func q4_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(le16(p)), dmin = halfToFloat(le16(p + 2))
        for j in 0..<8 {
            let (sc, mn) = kScaleMin(p + 4, j)
            let dd = d * Float(sc), mm = dmin * Float(mn)
            let q = p + 16 + 32 * (j >> 1)
            let shift: UInt8 = j & 1 == 0 ? 0 : 4
            for l in 0..<32 {
                let c = (q.load(fromByteOffset: l, as: UInt8.self) >> shift) & 15
                y[32 * j + l] = dd * Float(c) - mm
            }
        }
    }

    /// Q5_K, 176 bytes: `d` f16, `dmin` f16, 12 bytes scales/mins, `qh` 32 bytes, `qs` 128 bytes.
    /// As Q4_K with a fifth bit: `q = nibble | ((qh[l] >> j) & 1) << 4`; `y = (D · Float(q)) − M`.
    @inline(__always) static func q5_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(le16(p)), dmin = halfToFloat(le16(p + 2))
        let qh = p + 16
        for j in 0..<8 {
            let (sc, mn) = kScaleMin(p + 4, j)
            let dd = d * Float(sc), mm = dmin * Float(mn)
            let q = p + 48 + 32 * (j >> 1)
            let shift: UInt8 = j & 1 == 0 ? 0 : 4
            for l in 0..<32 {
                let lo = (q.load(fromByteOffset: l, as: UInt8.self) >> shift) & 15
                let hi = (qh.load(fromByteOffset: l, as: UInt8.self) >> UInt8(j)) & 1
                y[32 * j + l] = dd * Float(lo | hi << 4) - mm
            }
        }
    }

    /// Q6_K, 210 bytes: `ql` 128 bytes, `qh` 64 bytes, 16 × i8 scales, `d` f16. Element
    /// `i = 128h + 32k + l` (h 0…1, k 0…3, l 0…31): low 4 bits from `ql[64h + 32(k&1) + l]`
    /// (low nibble for k < 2, high for k ≥ 2), high 2 bits `(qh[32h + l] >> 2k) & 3`;
    /// `q = (low | high << 4) − 32`; `y[i] = (d · Float(sc[i/16])) · Float(q)`.
    @inline(__always) static func q6_K(_ p: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = halfToFloat(le16(p + 208))
        for h in 0..<2 {
            let ql = p + 64 * h, qh = p + 128 + 32 * h
            for k in 0..<4 {
                let src = ql + 32 * (k & 1)
                let shift: UInt8 = k < 2 ? 0 : 4
                for l in 0..<32 {
                    let i = 128 * h + 32 * k + l
                    let lo = (src.load(fromByteOffset: l, as: UInt8.self) >> shift) & 15
                    let hi = (qh.load(fromByteOffset: l, as: UInt8.self) >> UInt8(2 * k)) & 3
                    let sc = Int8(bitPattern: p.load(fromByteOffset: 192 + i / 16, as: UInt8.self))
                    y[i] = (d * Float(sc)) * Float(Int(lo | hi << 4) - 32)
                }
            }
        }
    }

    // MARK: helpers

    @inline(__always) public static func le16(_ p: UnsafeRawPointer) -> UInt16 {
        UInt16(p.load(as: UInt8.self)) | UInt16(p.load(fromByteOffset: 1, as: UInt8.self)) << 8
    }
    @inline(__always) public static func le32(_ p: UnsafeRawPointer) -> UInt32 {
        UInt32(le16(p)) | UInt32(le16(p + 2)) << 16
    }

    /// IEEE binary16 → binary32, exact. NaN keeps its sign and payload (shifted into the top of
    /// the f32 fraction) and gets the quiet bit, as the hardware conversions do.
    @inline(__always) public static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let e = UInt32(h >> 10) & 0x1F
        let f = UInt32(h & 0x3FF)
        if e == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | f << 13 | (f != 0 ? 0x0040_0000 : 0))
        }
        if e != 0 { return Float(bitPattern: sign | (e + 112) << 23 | f << 13) }
        if f == 0 { return Float(bitPattern: sign) }
        // Subnormal: f · 2^-24, exact in binary32.
        let v = Float(f) * 0x1p-24
        return Float(bitPattern: sign | v.bitPattern)
    }
}
