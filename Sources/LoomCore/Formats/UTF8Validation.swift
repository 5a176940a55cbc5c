/// Strict UTF-8 (RFC 3629) for the file readers: no overlong forms, no surrogates, nothing above
/// U+10FFFF. One definition for GGUF strings and the safetensors header.
public enum UTF8Validation {
    /// The offset of the first byte that is not part of a well-formed sequence, or nil when all
    /// of `p` is valid.
    public static func firstInvalid(_ p: UnsafeRawBufferPointer) -> Int? {
        let n = p.count
        var i = 0
        while i < n {
            let b = p[i]
            if b < 0x80 { i &+= 1; continue }
            var length = 0
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF  // the allowed range of the second byte
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; hi = 0x9F
            case 0xF0: length = 4; lo = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; hi = 0x8F
            default: return i
            }
            if length > n &- i { return i }
            if p[i &+ 1] < lo || p[i &+ 1] > hi { return i }
            var k = 2
            while k < length {
                if p[i &+ k] & 0xC0 != 0x80 { return i }
                k &+= 1
            }
            i &+= length
        }
        return nil
    }
}
