import LoomCore

/// The parsed form of a pattern.
indirect enum RegexNode: Sendable {
    case empty
    case char(UInt32, caseInsensitive: Bool)
    case set(CharSet)
    case concat([RegexNode])
    case alternation([RegexNode])
    /// `max < 0`: unbounded.
    case repetition(RegexNode, min: Int, max: Int, greedy: Bool, possessive: Bool)
    case lookaround(RegexNode, behind: Bool, negative: Bool)
    case atomic(RegexNode)
    case anchor(RegexAnchor)
}

enum RegexAnchor: UInt8, Sendable {
    case lineStart, lineEnd, textStart, textEnd, textEndBeforeNewline, wordBoundary, notWordBoundary
}

/// Recursive-descent parser of the Oniguruma (Ruby syntax) subset described in docs/tokenizers.md.
struct RegexParser {
    let pattern: [UInt32]
    var pos = 0
    var caseInsensitive = false
    var depth = 0
    static let maxDepth = 200

    init(_ text: String) {
        pattern = text.unicodeScalars.map { $0.value }
    }

    func fail(_ message: String) -> LoomError {
        LoomError(.invalidArgument, "regex", "\(message) at offset \(pos) of the pattern")
    }

    var atEnd: Bool { pos >= pattern.count }
    func peek(_ k: Int = 0) -> UInt32? { pos + k < pattern.count ? pattern[pos + k] : nil }

    mutating func parse() throws(LoomError) -> RegexNode {
        let n = try parseAlternation()
        if !atEnd { throw fail("unmatched ')'") }
        return n
    }

    mutating func parseAlternation() throws(LoomError) -> RegexNode {
        var branches = [try parseConcat()]
        while peek() == 0x7C /* | */ {
            pos += 1
            branches.append(try parseConcat())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    mutating func parseConcat() throws(LoomError) -> RegexNode {
        var items = [RegexNode]()
        let savedCase = caseInsensitive
        defer { caseInsensitive = savedCase }
        while let c = peek(), c != 0x7C, c != 0x29 /* ) */ {
            // Inline flags `(?i)` apply to the rest of the enclosing group, alternatives included
            // (Oniguruma: `a(?i)b|c` is `a(?i:b|c)`).
            if c == 0x28, peek(1) == 0x3F, let flagsEnd = inlineFlagsEnd() {
                try applyFlags(from: pos + 2, to: flagsEnd)
                pos = flagsEnd + 1
                items.append(try parseAlternation())
                break
            }
            var atom = try parseAtom()
            atom = try parseQuantifiers(atom)
            items.append(atom)
        }
        if items.isEmpty { return .empty }
        return items.count == 1 ? items[0] : .concat(items)
    }

    /// For `(?imx-imx)` at `pos`, the index of its ')'.
    func inlineFlagsEnd() -> Int? {
        var i = pos + 2
        while i < pattern.count {
            let c = pattern[i]
            if c == 0x29 { return i > pos + 2 ? i : nil }
            if c != 0x69 && c != 0x6D && c != 0x78 && c != 0x2D { return nil }
            i += 1
        }
        return nil
    }

    mutating func applyFlags(from: Int, to: Int) throws(LoomError) {
        var on = true
        for i in from..<to {
            switch pattern[i] {
            case 0x2D: on = false
            case 0x69: caseInsensitive = on
            case 0x6D, 0x78: throw fail("the regex flags m and x are not supported")
            default: break
            }
        }
    }

    mutating func parseQuantifiers(_ atomIn: RegexNode) throws(LoomError) -> RegexNode {
        var atom = atomIn
        while let c = peek() {
            var lo = 0, hi = -1
            switch c {
            case 0x2A: lo = 0; hi = -1; pos += 1
            case 0x2B: lo = 1; hi = -1; pos += 1
            case 0x3F: lo = 0; hi = 1; pos += 1
            case 0x7B:
                guard let (a, b, end) = parseBraces() else { return atom }
                lo = a; hi = b; pos = end
            default: return atom
            }
            if case .anchor = atom { throw fail("quantifier after an anchor") }
            if case .lookaround = atom { throw fail("quantifier after a look-around") }
            var greedy = true, possessive = false
            if peek() == 0x3F { greedy = false; pos += 1 } else if peek() == 0x2B && c != 0x7B { possessive = true; pos += 1 }
            atom = .repetition(atom, min: lo, max: hi, greedy: greedy, possessive: possessive)
        }
        return atom
    }

    /// `{n}`, `{n,}`, `{n,m}`, `{,m}` at `pos`: (min, max or -1, index after '}'); nil when the
    /// brace is a literal (Oniguruma's rule).
    func parseBraces() -> (Int, Int, Int)? {
        var i = pos + 1
        func number(_ i: inout Int) -> Int? {
            var v = 0, any = false
            while i < pattern.count, pattern[i] >= 0x30, pattern[i] <= 0x39 {
                v = v * 10 + Int(pattern[i] - 0x30); any = true; i += 1
                if v > 100_000 { return nil }
            }
            return any ? v : nil
        }
        let a = number(&i)
        if i < pattern.count, pattern[i] == 0x7D {
            guard let a else { return nil }
            return (a, a, i + 1)
        }
        guard i < pattern.count, pattern[i] == 0x2C else { return nil }
        i += 1
        let b = number(&i)
        guard i < pattern.count, pattern[i] == 0x7D else { return nil }
        if a == nil && b == nil { return nil }
        let lo = a ?? 0, hi = b ?? -1
        if hi >= 0 && hi < lo { return nil }
        return (lo, hi, i + 1)
    }

    mutating func parseAtom() throws(LoomError) -> RegexNode {
        let c = pattern[pos]
        switch c {
        case 0x28: return try parseGroup()
        case 0x5B:
            pos += 1
            var s = try parseClass()
            s.caseInsensitive = caseInsensitive
            s.finish()
            return .set(s)
        case 0x2E: pos += 1; return .set(CharSet.dot)
        case 0x5E: pos += 1; return .anchor(.lineStart)
        case 0x24: pos += 1; return .anchor(.lineEnd)
        case 0x5C: return try parseEscape()
        case 0x2A, 0x2B, 0x3F: throw fail("nothing to repeat")
        default:
            pos += 1
            return literal(c)
        }
    }

    func literal(_ c: UInt32) -> RegexNode {
        caseInsensitive ? .char(UnicodeProps.fold(c), caseInsensitive: true) : .char(c, caseInsensitive: false)
    }

    mutating func parseGroup() throws(LoomError) -> RegexNode {
        depth += 1
        defer { depth -= 1 }
        if depth > RegexParser.maxDepth { throw fail("groups nested too deeply") }
        pos += 1 // (
        let savedCase = caseInsensitive
        defer { caseInsensitive = savedCase }
        enum Kind { case plain, lookahead(Bool), lookbehind(Bool), atomic }
        var kind = Kind.plain
        if peek() == 0x3F {
            pos += 1
            guard let k = peek() else { throw fail("unterminated group") }
            switch k {
            case 0x3A: pos += 1
            case 0x3D: pos += 1; kind = .lookahead(false)
            case 0x21: pos += 1; kind = .lookahead(true)
            case 0x3E: pos += 1; kind = .atomic
            case 0x3C:
                if peek(1) == 0x3D { pos += 2; kind = .lookbehind(false) }
                else if peek(1) == 0x21 { pos += 2; kind = .lookbehind(true) }
                else { pos += 1; try skipGroupName(close: 0x3E) }
            case 0x50 where peek(1) == 0x3C: pos += 2; try skipGroupName(close: 0x3E)
            case 0x27: pos += 1; try skipGroupName(close: 0x27)
            default:
                // (?i:…) (?-i:…) (?i-m:…)
                var i = pos
                while i < pattern.count, pattern[i] == 0x69 || pattern[i] == 0x6D || pattern[i] == 0x78 || pattern[i] == 0x2D { i += 1 }
                guard i < pattern.count, pattern[i] == 0x3A, i > pos else {
                    throw fail("unsupported group syntax '(?\(String(Unicode.Scalar(k).map { Character($0) } ?? "?"))'")
                }
                try applyFlags(from: pos, to: i)
                pos = i + 1
            }
        }
        let inner = try parseAlternation()
        guard peek() == 0x29 else { throw fail("missing ')'") }
        pos += 1
        switch kind {
        case .plain: return inner
        case .lookahead(let neg): return .lookaround(inner, behind: false, negative: neg)
        case .lookbehind(let neg): return .lookaround(inner, behind: true, negative: neg)
        case .atomic: return .atomic(inner)
        }
    }

    mutating func skipGroupName(close: UInt32) throws(LoomError) {
        while let c = peek(), c != close { pos += 1 }
        guard peek() == close else { throw fail("unterminated group name") }
        pos += 1
    }

    // MARK: escapes

    mutating func parseEscape() throws(LoomError) -> RegexNode {
        pos += 1
        guard let c = peek() else { throw fail("trailing backslash") }
        switch c {
        case 0x41: pos += 1; return .anchor(.textStart)            // \A
        case 0x7A: pos += 1; return .anchor(.textEnd)              // \z
        case 0x5A: pos += 1; return .anchor(.textEndBeforeNewline) // \Z
        case 0x62: pos += 1; return .anchor(.wordBoundary)         // \b
        case 0x42: pos += 1; return .anchor(.notWordBoundary)      // \B
        default: break
        }
        if let item = try parseClassEscape() {
            var s = CharSet()
            s.items = [item]
            s.caseInsensitive = caseInsensitive
            s.finish()
            return .set(s)
        }
        return literal(try parseCharEscape())
    }

    /// A class escape at `pos` (after the backslash): \d \D \s \S \w \W \p{…} \P{…}; nil if the
    /// escape is not one (nothing consumed then).
    mutating func parseClassEscape() throws(LoomError) -> CharSet.Item? {
        guard let c = peek() else { return nil }
        switch c {
        case 0x64: pos += 1; return .digit
        case 0x44: pos += 1; return .notDigit
        case 0x73: pos += 1; return .space
        case 0x53: pos += 1; return .notSpace
        case 0x77: pos += 1; return .word
        case 0x57: pos += 1; return .notWord
        case 0x70, 0x50:
            pos += 1
            var negated = c == 0x50
            guard peek() == 0x7B else { throw fail("expected '{' after \\p") }
            pos += 1
            if peek() == 0x5E { negated.toggle(); pos += 1 }
            var name = ""
            while let k = peek(), k != 0x7D {
                if let s = Unicode.Scalar(k) { name.unicodeScalars.append(s) }
                pos += 1
            }
            guard peek() == 0x7D else { throw fail("unterminated \\p{") }
            pos += 1
            return try property(name, negated: negated)
        default: return nil
        }
    }

    func property(_ raw: String, negated: Bool) throws(LoomError) -> CharSet.Item {
        var key = ""
        for u in raw.unicodeScalars where u != " " && u != "_" && u != "-" {
            key.unicodeScalars.append(u.value >= 0x41 && u.value <= 0x5A ? Unicode.Scalar(u.value + 32)! : u)
        }
        var mask: UInt32
        switch key {
        case "l", "letter": mask = GeneralCategory.letter
        case "lc", "l&", "casedletter": mask = GeneralCategory.casedLetter
        case "lu", "uppercaseletter": mask = GeneralCategory.Lu.mask
        case "ll", "lowercaseletter": mask = GeneralCategory.Ll.mask
        case "lt", "titlecaseletter": mask = GeneralCategory.Lt.mask
        case "lm", "modifierletter": mask = GeneralCategory.Lm.mask
        case "lo", "otherletter": mask = GeneralCategory.Lo.mask
        case "m", "mark", "combiningmark": mask = GeneralCategory.mark
        case "mn", "nonspacingmark": mask = GeneralCategory.Mn.mask
        case "mc", "spacingmark": mask = GeneralCategory.Mc.mask
        case "me", "enclosingmark": mask = GeneralCategory.Me.mask
        case "n", "number": mask = GeneralCategory.number
        case "nd", "decimalnumber", "digit": mask = GeneralCategory.Nd.mask
        case "nl", "letternumber": mask = GeneralCategory.Nl.mask
        case "no", "othernumber": mask = GeneralCategory.No.mask
        case "p", "punctuation", "punct": mask = GeneralCategory.punctuation
        case "pc", "connectorpunctuation": mask = GeneralCategory.Pc.mask
        case "pd", "dashpunctuation": mask = GeneralCategory.Pd.mask
        case "ps", "openpunctuation": mask = GeneralCategory.Ps.mask
        case "pe", "closepunctuation": mask = GeneralCategory.Pe.mask
        case "pi", "initialpunctuation": mask = GeneralCategory.Pi.mask
        case "pf", "finalpunctuation": mask = GeneralCategory.Pf.mask
        case "po", "otherpunctuation": mask = GeneralCategory.Po.mask
        case "s", "symbol": mask = GeneralCategory.symbol
        case "sm", "mathsymbol": mask = GeneralCategory.Sm.mask
        case "sc", "currencysymbol": mask = GeneralCategory.Sc.mask
        case "sk", "modifiersymbol": mask = GeneralCategory.Sk.mask
        case "so", "othersymbol": mask = GeneralCategory.So.mask
        case "z", "separator": mask = GeneralCategory.separator
        case "zs", "spaceseparator": mask = GeneralCategory.Zs.mask
        case "zl", "lineseparator": mask = GeneralCategory.Zl.mask
        case "zp", "paragraphseparator": mask = GeneralCategory.Zp.mask
        case "c", "other": mask = GeneralCategory.other
        case "cc", "control", "cntrl": mask = GeneralCategory.Cc.mask
        case "cf", "format": mask = GeneralCategory.Cf.mask
        case "cs", "surrogate": mask = GeneralCategory.Cs.mask
        case "co", "privateuse": mask = GeneralCategory.Co.mask
        case "cn", "unassigned": mask = GeneralCategory.Cn.mask
        case "any": mask = (1 << 30) - 1
        case "alpha", "alphabetic": return negated ? .notAlphabetic : .alphabetic
        case "space", "whitespace": return negated ? .notSpace : .space
        case "word": return negated ? .notWord : .word
        case "ascii":
            var s = CharSet()
            s.items = [.range(0, 0x7F)]
            s.negated = negated
            s.finish()
            return .set(s)
        default:
            throw LoomError(.invalidArgument, "regex", "unsupported Unicode property \\p{\(raw)} at offset \(pos) of the pattern (supported: general categories, Alphabetic, White_Space, Word, Any, ASCII)")
        }
        return negated ? .notCategories(mask) : .categories(mask)
    }

    /// One character escape at `pos` (after the backslash), as a scalar value.
    mutating func parseCharEscape() throws(LoomError) -> UInt32 {
        let c = pattern[pos]
        pos += 1
        switch c {
        case 0x6E: return 0x0A // n
        case 0x72: return 0x0D // r
        case 0x74: return 0x09 // t
        case 0x66: return 0x0C // f
        case 0x76: return 0x0B // v
        case 0x61: return 0x07 // a
        case 0x65: return 0x1B // e
        case 0x30: return 0    // \0
        case 0x78: // \xHH or \x{H…}
            if peek() == 0x7B {
                pos += 1
                let v = try hexDigits(max: 8, until: 0x7D)
                return v
            }
            return try hexDigits(exactly: 2)
        case 0x75: return try hexDigits(exactly: 4) // \uHHHH
        default:
            if (c >= 0x30 && c <= 0x39) { throw fail("back-references are not supported") }
            if (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) {
                throw fail("unsupported escape '\\\(String(Character(Unicode.Scalar(c)!)))'")
            }
            return c
        }
    }

    mutating func hexDigits(exactly n: Int) throws(LoomError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<n {
            guard let c = peek(), let d = RegexParser.hexValue(c) else { throw fail("expected a hexadecimal digit") }
            v = v * 16 + d; pos += 1
        }
        return v
    }

    mutating func hexDigits(max: Int, until close: UInt32) throws(LoomError) -> UInt32 {
        var v: UInt32 = 0, n = 0
        while let c = peek(), c != close {
            guard let d = RegexParser.hexValue(c), n < max else { throw fail("bad \\x{…} escape") }
            v = v * 16 + d; pos += 1; n += 1
        }
        guard peek() == close, n > 0, v <= 0x10FFFF else { throw fail("bad \\x{…} escape") }
        pos += 1
        return v
    }

    static func hexValue(_ c: UInt32) -> UInt32? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    // MARK: bracket expressions

    /// Whether `[:name:]` (letters only) starts at `pos`; otherwise '[' opens a nested class.
    func isPosixBracket() -> Bool {
        var i = pos + 2
        if i < pattern.count, pattern[i] == 0x5E { i += 1 }
        let start = i
        while i < pattern.count, (pattern[i] | 0x20) >= 0x61, (pattern[i] | 0x20) <= 0x7A { i += 1 }
        return i > start && i + 1 < pattern.count && pattern[i] == 0x3A && pattern[i + 1] == 0x5D
    }

    /// Parses after '[' up to and including the closing ']'.
    mutating func parseClass() throws(LoomError) -> CharSet {
        var set = CharSet()
        if peek() == 0x5E { set.negated = true; pos += 1 }
        var first = true
        while true {
            guard let c = peek() else { throw fail("unterminated character class") }
            if c == 0x5D && !first { pos += 1; break }
            first = false
            if c == 0x5B {
                if peek(1) == 0x3A && isPosixBracket() { throw fail("POSIX bracket classes ([:alpha:]) are not supported") }
                pos += 1
                var inner = try parseClass()
                inner.caseInsensitive = caseInsensitive
                inner.finish()
                set.items.append(.set(inner))
                continue
            }
            if c == 0x26 && peek(1) == 0x26 { throw fail("class intersection (&&) is not supported") }
            // One class member: an escape (class or char) or a literal; then maybe a range.
            var lo: UInt32
            if c == 0x5C {
                pos += 1
                guard peek() != nil else { throw fail("trailing backslash") }
                if let item = try parseClassEscape() {
                    if peek() == 0x2D, let next = peek(1), next != 0x5D { throw fail("a class escape cannot start a range") }
                    set.items.append(item)
                    continue
                }
                if peek() == 0x62 { pos += 1; lo = 0x08 } else { lo = try parseCharEscape() }
            } else {
                pos += 1
                lo = c
            }
            if peek() == 0x2D, let next = peek(1), next != 0x5D {
                pos += 1
                var hi: UInt32
                if next == 0x5C {
                    pos += 1
                    guard peek() != nil else { throw fail("trailing backslash") }
                    let save = pos
                    if try parseClassEscape() != nil { pos = save; throw fail("a class escape cannot end a range") }
                    hi = try parseCharEscape()
                } else {
                    pos += 1
                    hi = next
                }
                guard hi >= lo else { throw fail("empty range in character class") }
                set.items.append(.range(lo, hi))
            } else {
                set.items.append(.range(lo, lo))
            }
        }
        return set
    }
}
