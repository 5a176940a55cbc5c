/// GPT-2's byte-level alphabet: each of the 256 byte values stands for one printable scalar, so a
/// byte string becomes text the BPE vocabulary is written in. Bytes '!'…'~', 0xA1…0xAC and
/// 0xAE…0xFF stand for themselves; the other 68 bytes, in increasing order, for U+0100, U+0101, …
/// (so ' ' is 'Ġ' U+0120 and '\n' is 'Ċ' U+010A).
public enum ByteLevelAlphabet {
    /// The scalar of each byte.
    public static let scalars: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 0x100
        for b in 0..<256 {
            if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
                t[b] = UInt32(b)
            } else {
                t[b] = next
                next += 1
            }
        }
        return t
    }()

    /// The byte of a scalar of the alphabet, or nil.
    @inline(__always)
    public static func byte(of scalar: UInt32) -> UInt8? {
        if scalar < 0x100 {
            let b = UInt8(scalar)
            return scalars[Int(b)] == scalar ? b : nil
        }
        if scalar < 0x144 { return inverseHigh[Int(scalar - 0x100)] }
        return nil
    }

    private static let inverseHigh: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 0x44)
        for b in 0..<256 where scalars[b] >= 0x100 { t[Int(scalars[b] - 0x100)] = UInt8(b) }
        return t
    }()

    /// The UTF-8 bytes of `text`, each mapped to its scalar.
    public static func encode(_ text: [UInt32]) -> [UInt32] {
        var out = [UInt32]()
        out.reserveCapacity(text.count + text.count / 2)
        let table = scalars
        for c in text {
            if c < 0x80 {
                out.append(table[Int(c)])
            } else if c < 0x800 {
                out.append(table[Int(0xC0 | (c >> 6))])
                out.append(table[Int(0x80 | (c & 0x3F))])
            } else if c < 0x10000 {
                out.append(table[Int(0xE0 | (c >> 12))])
                out.append(table[Int(0x80 | ((c >> 6) & 0x3F))])
                out.append(table[Int(0x80 | (c & 0x3F))])
            } else {
                out.append(table[Int(0xF0 | (c >> 18))])
                out.append(table[Int(0x80 | ((c >> 12) & 0x3F))])
                out.append(table[Int(0x80 | ((c >> 6) & 0x3F))])
                out.append(table[Int(0x80 | (c & 0x3F))])
            }
        }
        return out
    }
}
