/// Unicode general categories and the character predicates the tokenizers use, from the
/// standard library's Unicode tables (`Unicode.Scalar.Properties`; in Embedded Swift these come
/// from `libswiftUnicodeDataTables.a`).
///
/// The categories are numbered so that a set of them fits in a `UInt32` bit mask
/// (`1 << category.rawValue`).
public enum GeneralCategory: UInt8, Sendable, CaseIterable {
    case Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po, Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co, Cn

    /// The category of the scalar value `v` (Cs for surrogate code points, Cn for values above
    /// U+10FFFF).
    @inline(__always)
    public static func of(_ v: UInt32) -> GeneralCategory {
        if v < 0x80 { return asciiTable[Int(v)] }
        guard let s = Unicode.Scalar(v) else { return v < 0xE000 ? .Cs : .Cn }
        return of(s)
    }

    public static func of(_ s: Unicode.Scalar) -> GeneralCategory {
        switch s.properties.generalCategory {
        case .uppercaseLetter: return .Lu
        case .lowercaseLetter: return .Ll
        case .titlecaseLetter: return .Lt
        case .modifierLetter: return .Lm
        case .otherLetter: return .Lo
        case .nonspacingMark: return .Mn
        case .spacingMark: return .Mc
        case .enclosingMark: return .Me
        case .decimalNumber: return .Nd
        case .letterNumber: return .Nl
        case .otherNumber: return .No
        case .connectorPunctuation: return .Pc
        case .dashPunctuation: return .Pd
        case .openPunctuation: return .Ps
        case .closePunctuation: return .Pe
        case .initialPunctuation: return .Pi
        case .finalPunctuation: return .Pf
        case .otherPunctuation: return .Po
        case .mathSymbol: return .Sm
        case .currencySymbol: return .Sc
        case .modifierSymbol: return .Sk
        case .otherSymbol: return .So
        case .spaceSeparator: return .Zs
        case .lineSeparator: return .Zl
        case .paragraphSeparator: return .Zp
        case .control: return .Cc
        case .format: return .Cf
        case .surrogate: return .Cs
        case .privateUse: return .Co
        case .unassigned: return .Cn
        @unknown default: return .Cn
        }
    }

    private static let asciiTable: [GeneralCategory] = {
        var t = [GeneralCategory](repeating: .Cc, count: 128)
        for v in 0..<128 {
            let s = Unicode.Scalar(UInt8(v))
            t[v] = of(s)
        }
        return t
    }()

    @inline(__always) public var mask: UInt32 { 1 << UInt32(rawValue) }

    /// Masks of the one-letter groups.
    public static let letter: UInt32 = 0b11111                       // Lu Ll Lt Lm Lo
    public static let casedLetter: UInt32 = 0b111                    // Lu Ll Lt
    public static let mark: UInt32 = 0b111 << 5                      // Mn Mc Me
    public static let number: UInt32 = 0b111 << 8                    // Nd Nl No
    public static let punctuation: UInt32 = 0b1111111 << 11          // Pc … Po
    public static let symbol: UInt32 = 0b1111 << 18                  // Sm Sc Sk So
    public static let separator: UInt32 = 0b111 << 22                // Zs Zl Zp
    public static let other: UInt32 = 0b11111 << 25                 // Cc Cf Cs Co Cn
}

/// Character predicates shared by the regex engine and the tokenizer components.
public enum UnicodeProps {
    /// The Unicode White_Space property (what `\s` matches, and Rust's `char::is_whitespace`).
    @inline(__always)
    public static func isWhitespace(_ v: UInt32) -> Bool {
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        switch v {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Alphabetic property.
    public static func isAlphabetic(_ v: UInt32) -> Bool {
        guard let s = Unicode.Scalar(v) else { return false }
        return s.properties.isAlphabetic
    }

    /// A word character as Oniguruma's `\w` defines it for Unicode: Letter, Mark, Decimal_Number
    /// or Connector_Punctuation.
    @inline(__always)
    public static func isWord(_ v: UInt32) -> Bool {
        if v < 0x80 {
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        let c = GeneralCategory.of(v).mask
        return c & (GeneralCategory.letter | GeneralCategory.mark | GeneralCategory.Nd.mask | GeneralCategory.Pc.mask) != 0
    }

    /// The lower-case mapping of one scalar (the full mapping: may be several scalars).
    public static func lowercase(_ v: UInt32, into out: inout [UInt32]) {
        if v < 0x80 {
            out.append((v >= 0x41 && v <= 0x5A) ? v + 32 : v)
            return
        }
        guard let s = Unicode.Scalar(v) else { out.append(v); return }
        for m in s.properties.lowercaseMapping.unicodeScalars { out.append(m.value) }
    }

    /// A simple case fold used by case-insensitive regex matching: the lower case of the upper
    /// case of `v` where both are single scalars (so 'ſ' and 'S' fold to 's', 'K' (Kelvin) to 'k').
    public static func fold(_ v: UInt32) -> UInt32 {
        if v < 0x80 { return (v >= 0x41 && v <= 0x5A) ? v + 32 : v }
        guard let s = Unicode.Scalar(v) else { return v }
        let p = s.properties
        var up = v
        let u = p.uppercaseMapping.unicodeScalars
        if u.count == 1, let f = u.first { up = f.value }
        guard let us = Unicode.Scalar(up) else { return v }
        let l = us.properties.lowercaseMapping.unicodeScalars
        if l.count == 1, let f = l.first { return f.value }
        let l0 = p.lowercaseMapping.unicodeScalars
        if l0.count == 1, let f = l0.first { return f.value }
        return v
    }

    /// Canonical combining class (0 for starters).
    @inline(__always)
    public static func combiningClass(_ v: UInt32) -> UInt8 {
        if v < 0x300 { return 0 }
        guard let s = Unicode.Scalar(v) else { return 0 }
        return s.properties.canonicalCombiningClass.rawValue
    }
}
