import LoomCore

/// What happens to the delimiters a pre-tokenizer finds (the library's `SplitDelimiterBehavior`).
public enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// Metaspace's `prepend_scheme`.
public enum PrependScheme: String, Sendable {
    case always, first, never
}

/// One piece of text between the pre-tokenizers: its scalars and whether it begins at the
/// start of the original input (Metaspace's `first` scheme needs that).
public struct TextPiece: Sendable {
    public var scalars: [UInt32]
    public var atStart: Bool
    public init(_ scalars: [UInt32], atStart: Bool) {
        self.scalars = scalars
        self.atStart = atStart
    }
}

/// A pre-tokenizer of a Hugging Face tokenizer (the `pre_tokenizer` field): splits each piece
/// of normalized text into the words the model sees. Every case behaves as the library's
/// pre-tokenizer of the same name (docs/tokenizers.md).
public indirect enum PreTokenizer: Sendable {
    /// Optionally a space in front, then (with `useRegex`) the GPT-2 split pattern, then every
    /// byte of the UTF-8 encoding mapped to its printable stand-in (`ByteLevelAlphabet`).
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(TextPattern, behavior: SplitBehavior, invert: Bool)
    /// `\w+|[^\w\s]+` runs (Rust regex's Unicode `\w`); whitespace dropped.
    case whitespace
    /// Splits on whitespace, dropping it.
    case whitespaceSplit
    /// Whitespace dropped, then every punctuation character isolated.
    case bert
    /// Spaces replaced with `replacement`, which is prepended by the scheme; with `split`, each
    /// replacement starts a new piece.
    case metaspace(replacement: UInt32, prependScheme: PrependScheme, split: Bool)
    /// Numeric characters (Nd, Nl, No) isolated one by one, or kept in runs.
    case digits(individual: Bool)
    case punctuation(SplitBehavior)
    case charDelimiterSplit(UInt32)
    case sequence([PreTokenizer])

    /// The GPT-2 pattern `ByteLevel(use_regex: true)` implies.
    public static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let gpt2Regex: Regex = try! Regex(gpt2Pattern, place: "ByteLevel (GPT-2 pattern)")

    /// The pieces split into words. Throws only for a `split` regex that exceeds its step budget
    /// (see `Regex`).
    public func preTokenize(_ pieces: [TextPiece]) throws(LoomError) -> [TextPiece] {
        switch self {
        case .sequence(let list):
            var p = pieces
            for t in list { p = try t.preTokenize(p) }
            return p
        case .byteLevel(let addPrefixSpace, let useRegex):
            var out = [TextPiece]()
            for piece in pieces {
                var p = piece
                if addPrefixSpace && p.scalars.first != 0x20 { p.scalars.insert(0x20, at: 0) }
                let subs = useRegex ? PreTokenizer.split(p, try PreTokenizer.gpt2Regex.matches(in: p.scalars), .isolated) : [p]
                for s in subs where !s.scalars.isEmpty {
                    out.append(TextPiece(ByteLevelAlphabet.encode(s.scalars), atStart: s.atStart))
                }
            }
            return out
        default:
            var out = [TextPiece]()
            for piece in pieces { try splitOne(piece, into: &out) }
            return out
        }
    }

    func splitOne(_ p: TextPiece, into out: inout [TextPiece]) throws(LoomError) {
        func add(_ list: [TextPiece]) { for s in list where !s.scalars.isEmpty { out.append(s) } }
        switch self {
        case .split(let pattern, let behavior, let invert):
            let ms = try pattern.matches(in: p.scalars)
            add(PreTokenizer.split(p, ms, behavior, invert: invert))
        case .whitespace:
            let ms = PreTokenizer.runs(p.scalars) { c in
                if UnicodeProps.isWhitespace(c) { return 0 }
                return PreTokenizer.isRustWord(c) ? 1 : 2
            }
            add(PreTokenizer.split(p, ms, .removed, invert: true))
        case .whitespaceSplit:
            add(PreTokenizer.split(p, PreTokenizer.charMatches(p.scalars, UnicodeProps.isWhitespace), .removed))
        case .bert:
            var tmp = [TextPiece]()
            for s in PreTokenizer.split(p, PreTokenizer.charMatches(p.scalars, UnicodeProps.isWhitespace), .removed) where !s.scalars.isEmpty {
                tmp.append(s)
            }
            for s in tmp { add(PreTokenizer.split(s, PreTokenizer.charMatches(s.scalars, PreTokenizer.isPunctuation), .isolated)) }
        case .metaspace(let rep, let scheme, let split):
            var q = p
            q.scalars = p.scalars.map { $0 == 0x20 ? rep : $0 }
            switch scheme {
            case .always: if q.scalars.first != rep { q.scalars.insert(rep, at: 0) }
            case .first: if q.scalars.first != rep && q.atStart { q.scalars.insert(rep, at: 0) }
            case .never: break
            }
            if split {
                add(PreTokenizer.split(q, PreTokenizer.charMatches(q.scalars) { $0 == rep }, .mergedWithNext))
            } else {
                add([q])
            }
        case .digits(let individual):
            let ms = PreTokenizer.charMatches(p.scalars) { GeneralCategory.of($0).mask & GeneralCategory.number != 0 }
            add(PreTokenizer.split(p, ms, individual ? .isolated : .contiguous))
        case .punctuation(let behavior):
            add(PreTokenizer.split(p, PreTokenizer.charMatches(p.scalars, PreTokenizer.isPunctuation), behavior))
        case .charDelimiterSplit(let d):
            add(PreTokenizer.split(p, PreTokenizer.charMatches(p.scalars) { $0 == d }, .removed))
        case .byteLevel, .sequence:
            add(try preTokenize([p]))
        }
    }

    /// ASCII punctuation or a Unicode punctuation category (P*).
    static func isPunctuation(_ c: UInt32) -> Bool {
        if c < 0x80 {
            return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E)
        }
        return GeneralCategory.of(c).mask & GeneralCategory.punctuation != 0
    }

    /// Rust `regex`'s Unicode `\w`: Alphabetic, marks, decimal digits, connector punctuation,
    /// Join_Control.
    static func isRustWord(_ c: UInt32) -> Bool {
        if c < 0x80 { return UnicodeProps.isWord(c) }
        if c == 0x200C || c == 0x200D { return true }
        if UnicodeProps.isAlphabetic(c) { return true }
        let m = GeneralCategory.of(c).mask
        return m & (GeneralCategory.mark | GeneralCategory.Nd.mask | GeneralCategory.Pc.mask) != 0
    }

    /// Every single scalar satisfying `pred`, as a match.
    static func charMatches(_ s: [UInt32], _ pred: (UInt32) -> Bool) -> [Range<Int>] {
        var out = [Range<Int>]()
        for i in 0..<s.count where pred(s[i]) { out.append(i..<(i + 1)) }
        return out
    }

    /// Maximal runs of scalars of the same nonzero class, as matches.
    static func runs(_ s: [UInt32], _ cls: (UInt32) -> Int) -> [Range<Int>] {
        var out = [Range<Int>]()
        var i = 0
        while i < s.count {
            let k = cls(s[i])
            if k == 0 { i += 1; continue }
            var j = i + 1
            while j < s.count && cls(s[j]) == k { j += 1 }
            out.append(i..<j)
            i = j
        }
        return out
    }

    /// Splits `p` at the matches (sorted, non-overlapping) with the library's behaviours; may
    /// return empty pieces (callers drop them).
    static func split(_ p: TextPiece, _ matches: [Range<Int>], _ behavior: SplitBehavior, invert: Bool = false) -> [TextPiece] {
        let s = p.scalars
        if s.isEmpty { return [] }
        // (range, isMatch) covering the whole text.
        var parts = [(Range<Int>, Bool)]()
        var prev = 0
        for m in matches {
            if prev != m.lowerBound { parts.append((prev..<m.lowerBound, invert)) }
            parts.append((m, !invert))
            prev = m.upperBound
        }
        if prev != s.count { parts.append((prev..<s.count, invert)) }
        var ranges = [Range<Int>]()
        switch behavior {
        case .isolated:
            ranges = parts.map { $0.0 }
        case .removed:
            ranges = parts.filter { !$0.1 }.map { $0.0 }
        case .contiguous:
            var previous = false
            for (r, isMatch) in parts {
                if isMatch == previous, let last = ranges.last {
                    ranges[ranges.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    ranges.append(r)
                }
                previous = isMatch
            }
        case .mergedWithPrevious:
            var previous = false
            for (r, isMatch) in parts {
                if isMatch && !previous, let last = ranges.last {
                    ranges[ranges.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    ranges.append(r)
                }
                previous = isMatch
            }
        case .mergedWithNext:
            var previous = false
            var rev = [Range<Int>]()
            for (r, isMatch) in parts.reversed() {
                if isMatch && !previous, let last = rev.last {
                    rev[rev.count - 1] = r.lowerBound..<last.upperBound
                } else {
                    rev.append(r)
                }
                previous = isMatch
            }
            ranges = rev.reversed()
        }
        return ranges.map { TextPiece(Array(s[$0]), atStart: p.atStart && $0.lowerBound == 0) }
    }
}
