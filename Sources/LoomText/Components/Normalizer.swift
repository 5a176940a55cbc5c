import LoomCore

/// A text normalizer of a Hugging Face tokenizer (the `normalizer` field of tokenizer.json).
/// Works on Unicode scalar values; every case behaves as the `tokenizers` library's normalizer
/// of the same name (docs/tokenizers.md).
public indirect enum Normalizer: Sendable {
    /// BERT's: `cleanText` drops U+0000, U+FFFD and control characters (Cc/Cf/Co other than
    /// tab, newline and carriage return) and turns whitespace into ' '; `handleChineseChars`
    /// puts spaces around CJK ideographs; `stripAccents` (default: `lowercase`) is NFD then
    /// dropping non-spacing marks (Mn); `lowercase` maps each scalar to its full lower case.
    case bert(cleanText: Bool, handleChineseChars: Bool, stripAccents: Bool?, lowercase: Bool)
    case lowercase
    case nfd, nfc, nfkd, nfkc
    /// Drops non-spacing marks (Mn).
    case stripAccents
    /// Removes leading and/or trailing whitespace.
    case strip(left: Bool, right: Bool)
    case prepend(String)
    /// Replaces every match of the pattern with `content`.
    case replace(TextPattern, content: String)
    case sequence([Normalizer])

    /// The normalized text. Throws only for a `replace` regex that exceeds its step budget
    /// (see `Regex`).
    public func normalize(_ text: [UInt32]) throws(LoomError) -> [UInt32] {
        switch self {
        case .bert(let clean, let chinese, let strip, let lower):
            var t = text
            if clean {
                var out = [UInt32]()
                out.reserveCapacity(t.count)
                for c in t {
                    if c == 0 || c == 0xFFFD || Normalizer.isBertControl(c) { continue }
                    out.append(Normalizer.isBertWhitespace(c) ? 0x20 : c)
                }
                t = out
            }
            if chinese {
                var out = [UInt32]()
                out.reserveCapacity(t.count)
                for c in t {
                    if Normalizer.isChineseChar(c) { out.append(0x20); out.append(c); out.append(0x20) } else { out.append(c) }
                }
                t = out
            }
            if strip ?? lower {
                t = Normalizer.dropNonspacingMarks(UnicodeNormalization.normalize(t, .nfd))
            }
            if lower { t = Normalizer.lowercased(t) }
            return t
        case .lowercase: return Normalizer.lowercased(text)
        case .nfd: return UnicodeNormalization.normalize(text, .nfd)
        case .nfc: return UnicodeNormalization.normalize(text, .nfc)
        case .nfkd: return UnicodeNormalization.normalize(text, .nfkd)
        case .nfkc: return UnicodeNormalization.normalize(text, .nfkc)
        case .stripAccents: return Normalizer.dropNonspacingMarks(text)
        case .strip(let left, let right):
            var lo = 0, hi = text.count
            if left { while lo < hi && UnicodeProps.isWhitespace(text[lo]) { lo += 1 } }
            if right { while hi > lo && UnicodeProps.isWhitespace(text[hi - 1]) { hi -= 1 } }
            return Array(text[lo..<hi])
        case .prepend(let s):
            // The library prepends only to a non-empty string.
            return text.isEmpty ? text : s.unicodeScalars.map { $0.value } + text
        case .replace(let pattern, let content):
            return try pattern.replaceAll(in: text, with: content.unicodeScalars.map { $0.value })
        case .sequence(let list):
            var t = text
            for n in list { t = try n.normalize(t) }
            return t
        }
    }

    static func lowercased(_ t: [UInt32]) -> [UInt32] {
        var out = [UInt32]()
        out.reserveCapacity(t.count)
        for c in t { UnicodeProps.lowercase(c, into: &out) }
        return out
    }

    static func dropNonspacingMarks(_ t: [UInt32]) -> [UInt32] {
        t.filter { $0 < 0x300 || GeneralCategory.of($0) != .Mn }
    }

    /// Tab, newline, carriage return and the White_Space characters.
    static func isBertWhitespace(_ c: UInt32) -> Bool { UnicodeProps.isWhitespace(c) }

    /// Cc, Cf or Co except tab, newline and carriage return. (The library's `is_other` also
    /// names Cn, but its tables list no unassigned code point, so those are kept: checked on
    /// every code point with scripts/fixtures — only 14 characters assigned or recategorized
    /// after its old Unicode tables differ.)
    static func isBertControl(_ c: UInt32) -> Bool {
        if c == 0x09 || c == 0x0A || c == 0x0D { return false }
        if c >= 0x20 && c < 0x7F { return false }
        return GeneralCategory.of(c).mask & (GeneralCategory.Cc.mask | GeneralCategory.Cf.mask | GeneralCategory.Co.mask) != 0
    }

    /// The CJK ideograph blocks BERT isolates.
    static func isChineseChar(_ c: UInt32) -> Bool {
        switch c {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }
}

/// A split or replace pattern: a literal string or a regular expression.
public enum TextPattern: Sendable {
    case string([UInt32])
    case regex(Regex)

    /// The matches as scalar offset ranges (an empty literal matches nothing). Throws only for a
    /// regex that exceeds its step budget (see `Regex`).
    public func matches(in text: [UInt32]) throws(LoomError) -> [Range<Int>] {
        switch self {
        case .regex(let r): return try r.matches(in: text)
        case .string(let s): return TextPattern.literalMatches(s, in: text)
        }
    }

    public func replaceAll(in text: [UInt32], with content: [UInt32]) throws(LoomError) -> [UInt32] {
        TextPattern.replacing(try matches(in: text), in: text, with: content)
    }

    /// The non-overlapping occurrences of `s` in `text`, left to right.
    static func literalMatches(_ s: [UInt32], in text: [UInt32]) -> [Range<Int>] {
        guard !s.isEmpty, s.count <= text.count else { return [] }
        var out = [Range<Int>]()
        var i = 0
        while i + s.count <= text.count {
            var hit = true
            for k in 0..<s.count where text[i + k] != s[k] { hit = false; break }
            if hit { out.append(i..<(i + s.count)); i += s.count } else { i += 1 }
        }
        return out
    }

    /// `text` with each of the (sorted, non-overlapping) ranges `ms` replaced by `content`.
    static func replacing(_ ms: [Range<Int>], in text: [UInt32], with content: [UInt32]) -> [UInt32] {
        if ms.isEmpty { return text }
        var out = [UInt32]()
        var prev = 0
        for m in ms {
            out.append(contentsOf: text[prev..<m.lowerBound])
            out.append(contentsOf: content)
            prev = m.upperBound
        }
        out.append(contentsOf: text[prev...])
        return out
    }
}
