/// Base64 with the standard alphabet and `=` padding (RFC 4648 §4). Decoding is strict: no
/// whitespace, no missing or extra padding, no nonzero bits in the padding, so every byte array
/// has exactly one accepted text.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int((v >> 12) & 63)])
            out.append(alphabet[Int((v >> 6) & 63)])
            out.append(alphabet[Int(v & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int((v >> 12) & 63)])
            out.append(UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(v >> 18)])
            out.append(alphabet[Int((v >> 12) & 63)])
            out.append(alphabet[Int((v >> 6) & 63)])
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always) private static func value(of c: UInt8) -> UInt32? {
        switch c {
        case 0x41...0x5A: return UInt32(c - 0x41)
        case 0x61...0x7A: return UInt32(c - 0x61 + 26)
        case 0x30...0x39: return UInt32(c - 0x30 + 52)
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    public static func decode(_ text: String) throws(Base64Error) -> [UInt8] {
        let bytes = Array(text.utf8)
        let n = bytes.count
        var out: [UInt8] = []
        out.reserveCapacity(n / 4 * 3)
        var i = 0
        while i < n {
            // One group of four characters (the last may hold padding).
            var v: UInt32 = 0
            var padding = 0
            for k in 0..<4 {
                let p = i + k
                guard p < n else {
                    throw Base64Error(message: "unexpected end of input: length \(n) is not a multiple of 4", position: n)
                }
                let c = bytes[p]
                if c == UInt8(ascii: "=") {
                    // Only the last one or two characters of the final group may be padding.
                    if k < 2 || p + (4 - k) != n || (k == 2 && bytes[p + 1] != UInt8(ascii: "=")) {
                        throw Base64Error(message: "misplaced padding '='", position: p)
                    }
                    padding = 4 - k
                    break
                }
                guard let d = value(of: c) else {
                    throw Base64Error(message: "invalid character \(describe(bytes, at: p))", position: p)
                }
                v |= d << UInt32(18 - 6 * k)
            }
            out.append(UInt8(truncatingIfNeeded: v >> 16))
            if padding == 2 {
                if v & 0xFFFF != 0 {
                    throw Base64Error(message: "nonzero bits in the padding of the final group", position: i + 1)
                }
                break
            }
            out.append(UInt8(truncatingIfNeeded: v >> 8))
            if padding == 1 {
                if v & 0xFF != 0 {
                    throw Base64Error(message: "nonzero bits in the padding of the final group", position: i + 2)
                }
                break
            }
            out.append(UInt8(truncatingIfNeeded: v))
            i += 4
        }
        return out
    }

    private static func describe(_ bytes: [UInt8], at p: Int) -> String {
        let c = bytes[p]
        if c >= 0x20 && c < 0x7F { return "'" + String(decoding: [c], as: UTF8.self) + "'" }
        return "byte 0x" + JSONParser.hex(UInt32(c), digits: 2)
    }
}

/// A Base64 decoding error; `position` is the 0-based character offset of the problem.
public struct Base64Error: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var position: Int

    public init(message: String, position: Int) {
        self.message = message
        self.position = position
    }

    /// `position 5: invalid character '!'`
    public var description: String { "position \(position): \(message)" }
}
