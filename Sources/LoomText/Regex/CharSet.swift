/// A set of characters: what a bracket expression (`[^\s\p{L}]`), a class escape (`\d`, `\p{N}`)
/// or `.` matches.
///
/// Items are unioned; `negated` complements the union. Case-insensitive sets also accept a
/// character whose simple case fold (or upper/lower case) is in the set.
struct CharSet: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        /// General categories in a bit mask (`GeneralCategory.mask`).
        case categories(UInt32)
        case notCategories(UInt32)
        case space, notSpace, word, notWord, digit, notDigit
        case alphabetic, notAlphabetic
        case set(CharSet)
    }

    var items: [Item] = []
    var negated = false
    var caseInsensitive = false
    /// Membership of the 128 ASCII characters, filled by `finish()`.
    private var asciiLow: UInt64 = 0
    private var asciiHigh: UInt64 = 0

    /// `.` without the multi-line option: anything but a newline.
    static var dot: CharSet {
        var s = CharSet()
        s.items = [.range(0x0A, 0x0A)]
        s.negated = true
        s.finish()
        return s
    }

    mutating func finish() {
        asciiLow = 0; asciiHigh = 0
        for v in UInt32(0)..<128 where slowContains(v) {
            if v < 64 { asciiLow |= 1 << UInt64(v) } else { asciiHigh |= 1 << UInt64(v - 64) }
        }
    }

    @inline(__always)
    func contains(_ v: UInt32) -> Bool {
        if v < 64 { return asciiLow & (1 << UInt64(v)) != 0 }
        if v < 128 { return asciiHigh & (1 << UInt64(v - 64)) != 0 }
        return slowContains(v)
    }

    func slowContains(_ v: UInt32) -> Bool {
        var hit = rawContains(v)
        if !hit && caseInsensitive {
            let f = UnicodeProps.fold(v)
            if f != v && rawContains(f) {
                hit = true
            } else if let s = Unicode.Scalar(v) {
                let u = s.properties.uppercaseMapping.unicodeScalars
                if u.count == 1, let c = u.first, c.value != v, rawContains(c.value) { hit = true }
            }
        }
        return hit != negated
    }

    private func rawContains(_ v: UInt32) -> Bool {
        var hit = false
        var category: UInt32? = nil
        for item in items {
            switch item {
            case .range(let lo, let hi): hit = v >= lo && v <= hi
            case .categories(let m):
                if category == nil { category = GeneralCategory.of(v).mask }
                hit = category! & m != 0
            case .notCategories(let m):
                if category == nil { category = GeneralCategory.of(v).mask }
                hit = category! & m == 0
            case .space: hit = UnicodeProps.isWhitespace(v)
            case .notSpace: hit = !UnicodeProps.isWhitespace(v)
            case .word: hit = UnicodeProps.isWord(v)
            case .notWord: hit = !UnicodeProps.isWord(v)
            case .digit:
                if category == nil { category = GeneralCategory.of(v).mask }
                hit = category! & GeneralCategory.Nd.mask != 0
            case .notDigit:
                if category == nil { category = GeneralCategory.of(v).mask }
                hit = category! & GeneralCategory.Nd.mask == 0
            case .alphabetic: hit = UnicodeProps.isAlphabetic(v)
            case .notAlphabetic: hit = !UnicodeProps.isAlphabetic(v)
            case .set(let s): hit = s.contains(v)
            }
            if hit { break }
        }
        return hit
    }
}
