/// Finds added tokens in text as the library does: leftmost-longest matches, then the
/// `single_word`, `lstrip` and `rstrip` rules of each token.
struct AddedTokenMatcher: Sendable {
    enum Part {
        case token(Int)
        case text([UInt32], atStart: Bool)
    }

    /// Candidates by first scalar, longest first: (content, index in the tokenizer's list).
    private var byFirst: [UInt32: [(content: [UInt32], index: Int)]] = [:]

    init() {}

    init(_ tokens: [(content: [UInt32], index: Int)]) {
        for t in tokens where !t.content.isEmpty {
            byFirst[t.content[0], default: []].append(t)
        }
        for k in byFirst.keys {
            // Longest first; among equal lengths the first added wins.
            byFirst[k] = byFirst[k]!.enumerated().sorted {
                $0.element.content.count != $1.element.content.count ? $0.element.content.count > $1.element.content.count : $0.offset < $1.offset
            }.map { $0.element }
        }
    }

    var isEmpty: Bool { byFirst.isEmpty }

    /// The longest candidate matching at `i`.
    private func longest(_ s: [UInt32], at i: Int) -> (length: Int, index: Int)? {
        guard let list = byFirst[s[i]] else { return nil }
        for t in list where t.content.count <= s.count - i {
            var ok = true
            for k in 1..<t.content.count where s[i + k] != t.content[k] { ok = false; break }
            if ok { return (t.content.count, t.index) }
        }
        return nil
    }

    /// Splits `s` into added tokens and the text between them (empty texts dropped).
    func split(_ s: [UInt32], _ tokens: [AddedToken], atStart: Bool = true) -> [Part] {
        if s.isEmpty { return [] }
        if byFirst.isEmpty { return [.text(s, atStart: atStart)] }
        var parts = [Part]()
        var startOffset = 0
        var i = 0
        func text(_ a: Int, _ b: Int) {
            if a < b { parts.append(.text(Array(s[a..<b]), atStart: atStart && a == 0)) }
        }
        while i < s.count {
            guard let m = longest(s, at: i) else { i += 1; continue }
            let tok = tokens[m.index]
            var start = i
            var stop = i + m.length
            i = stop
            if tok.singleWord {
                let startSpace = start == 0 || !PreTokenizer.isRustWord(s[start - 1])
                let stopSpace = stop == s.count || !PreTokenizer.isRustWord(s[stop])
                if !startSpace || !stopSpace { continue }
            }
            if tok.lstrip {
                var k = start
                while k > 0 && UnicodeProps.isWhitespace(s[k - 1]) { k -= 1 }
                start = max(k, startOffset)
            }
            if tok.rstrip {
                while stop < s.count && UnicodeProps.isWhitespace(s[stop]) { stop += 1 }
            }
            text(startOffset, start)
            parts.append(.token(tok.id))
            startOffset = stop
        }
        text(startOffset, s.count)
        return parts
    }
}
