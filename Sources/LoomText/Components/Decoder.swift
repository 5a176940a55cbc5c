import LoomCore

/// A decoder (the `decoder` field): turns the token strings of the ids back into text. Each
/// case behaves as the library's decoder of the same name (docs/tokenizers.md).
public indirect enum Decoder: Sendable {
    /// Maps each character back to its byte (a token with a character outside the alphabet
    /// contributes its own UTF-8 bytes), then decodes all bytes as UTF-8, invalid sequences
    /// becoming U+FFFD.
    case byteLevel
    /// Drops `prefix` from continuation tokens, puts a space before the others; `cleanup`
    /// removes the spaces the library removes before punctuation and contractions.
    case wordPiece(prefix: String, cleanup: Bool)
    /// `replacement` → ' '; in the first token the replacements are dropped instead (unless the
    /// scheme is never), as the library does.
    case metaspace(replacement: UInt32, prependScheme: PrependScheme, split: Bool)
    /// Runs of `<0xNN>` tokens become the text of those bytes (each byte a U+FFFD if invalid).
    case byteFallback
    /// All tokens joined into one.
    case fuse
    /// Removes `start` leading and `stop` trailing occurrences of `content` from each token.
    case strip(content: UInt32, start: Int, stop: Int)
    case replace(TextPattern, content: String)
    /// `BPEDecoder`: `suffix` → ' ' (dropped at the end of the last token).
    case bpe(suffix: String)
    case sequence([Decoder])

    /// The final text. Throws only for a `replace` regex that exceeds its step budget (see
    /// `Regex`).
    public func decode(_ tokens: [String]) throws(LoomError) -> String {
        var s = ""
        for t in try decodeChain(tokens) { s += t }
        return s
    }

    public func decodeChain(_ tokens: [String]) throws(LoomError) -> [String] {
        switch self {
        case .byteLevel:
            var bytes = [UInt8]()
            for t in tokens {
                let start = bytes.count
                var ok = true
                for c in t.unicodeScalars {
                    if let b = ByteLevelAlphabet.byte(of: c.value) { bytes.append(b) } else { ok = false; break }
                }
                if !ok {
                    bytes.removeSubrange(start...)
                    bytes.append(contentsOf: t.utf8)
                }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .wordPiece(let prefix, let cleanup):
            var out = [String]()
            for (i, t) in tokens.enumerated() {
                var tok = t
                if i != 0 {
                    if !prefix.isEmpty && t.utf8.starts(with: prefix.utf8) {
                        tok = String(decoding: Array(t.utf8.dropFirst(prefix.utf8.count)), as: UTF8.self)
                    } else {
                        tok = " " + t
                    }
                }
                if cleanup { tok = Decoder.cleanup(tok) }
                out.append(tok)
            }
            return out
        case .metaspace(let rep, let scheme, _):
            var out = [String]()
            for (i, t) in tokens.enumerated() {
                var v = String.UnicodeScalarView()
                for c in t.unicodeScalars {
                    if c.value == rep {
                        // As the library does: every replacement of the first token is dropped.
                        if i == 0 && scheme != .never { continue }
                        v.append(" ")
                    } else {
                        v.append(c)
                    }
                }
                out.append(String(v))
            }
            return out
        case .byteFallback:
            var out = [String]()
            var pending = [UInt8]()
            func flush() {
                if pending.isEmpty { return }
                if let s = Decoder.validUTF8(pending) {
                    out.append(s)
                } else {
                    for _ in pending { out.append("\u{FFFD}") }
                }
                pending.removeAll()
            }
            for t in tokens {
                if let b = Decoder.byteToken(t) { pending.append(b) } else { flush(); out.append(t) }
            }
            flush()
            return out
        case .fuse:
            var s = ""
            for t in tokens { s += t }
            return [s]
        case .strip(let content, let start, let stop):
            return tokens.map { t in
                var sc = Array(t.unicodeScalars)
                var lo = 0
                while lo < start && lo < sc.count && sc[lo].value == content { lo += 1 }
                var hi = sc.count
                var k = 0
                while k < stop && hi > lo && sc[hi - 1].value == content { hi -= 1; k += 1 }
                sc = Array(sc[lo..<hi])
                var v = String.UnicodeScalarView()
                v.append(contentsOf: sc)
                return String(v)
            }
        case .replace(let pattern, let content):
            let rep = content.unicodeScalars.map { $0.value }
            var out = [String]()
            out.reserveCapacity(tokens.count)
            for t in tokens { out.append(Decoder.string(try pattern.replaceAll(in: t.unicodeScalars.map { $0.value }, with: rep))) }
            return out
        case .bpe(let suffix):
            let s = suffix.unicodeScalars.map { $0.value }
            return tokens.enumerated().map { (i, t) in
                let text = t.unicodeScalars.map { $0.value }
                let rep: [UInt32] = i == tokens.count - 1 ? [] : [0x20]
                return Decoder.string(TextPattern.replacing(TextPattern.literalMatches(s, in: text), in: text, with: rep))
            }
        case .sequence(let list):
            var t = tokens
            for d in list { t = try d.decodeChain(t) }
            return t
        }
    }

    static func string(_ scalars: [UInt32]) -> String {
        var v = String.UnicodeScalarView()
        for c in scalars { if let s = Unicode.Scalar(c) { v.append(s) } }
        return String(v)
    }

    /// The byte of a `<0xNN>` token (exactly six bytes, hex digits in either case).
    static func byteToken(_ t: String) -> UInt8? {
        let u = Array(t.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E,
              let h = RegexParser.hexValue(UInt32(u[3])), let l = RegexParser.hexValue(UInt32(u[4])) else { return nil }
        return UInt8(h * 16 + l)
    }

    /// The string of `bytes` if they are valid UTF-8.
    static func validUTF8(_ bytes: [UInt8]) -> String? {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var v = String.UnicodeScalarView()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): v.append(s)
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        return String(v)
    }

    static func cleanup(_ s: String) -> String {
        var t = s
        for (a, b) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                       (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            t = replaceLiteral(t, a, b)
        }
        return t
    }

    /// Replaces every non-overlapping occurrence of `a` (by scalars, left to right).
    static func replaceLiteral(_ s: String, _ a: String, _ b: String) -> String {
        let text = s.unicodeScalars.map { $0.value }
        let ms = TextPattern.literalMatches(a.unicodeScalars.map { $0.value }, in: text)
        return string(TextPattern.replacing(ms, in: text, with: b.unicodeScalars.map { $0.value }))
    }
}
