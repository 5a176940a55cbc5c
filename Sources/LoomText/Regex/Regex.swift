import LoomCore

/// A regular expression with the match semantics of Oniguruma (the engine behind the Hugging Face
/// `tokenizers` library's `Split` and `ByteLevel` pre-tokenizers): a backtracking matcher,
/// leftmost match, alternatives tried in order (the first that lets the whole pattern match
/// wins), greedy quantifiers that give back one character at a time.
///
/// The pattern language is the subset in docs/tokenizers.md: literals and escapes, `.`, classes
/// with ranges, negation and nesting, `\d \D \s \S \w \W \p{…} \P{…}`, groups (capturing groups
/// are treated as non-capturing), `(?i:…)`, `(?i)`, look-ahead and look-behind, atomic groups,
/// greedy/lazy/possessive `* + ? {m,n}`, anchors `^ $ \A \z \Z \b \B`. Anything else is refused
/// with a `LoomError` naming it.
///
/// Matching works on Unicode scalars; offsets are scalar indices.
public struct Regex: Sendable {
    public let pattern: String
    let program: RegexProgram

    public init(_ pattern: String) throws(LoomError) {
        self.pattern = pattern
        var parser = RegexParser(pattern)
        let root = try parser.parse()
        let (insts, sets, registers) = try RegexCompiler.compile(root)
        program = RegexProgram(insts: insts, sets: sets, registers: registers)
    }

    /// The non-overlapping matches in `text`, left to right, as scalar offset ranges. After an
    /// empty match the search resumes one scalar further, and an empty match right where the
    /// previous match ended is skipped (Oniguruma's iteration, as the `onig` crate does it).
    public func matches(in text: [UInt32]) -> [Range<Int>] {
        var out = [Range<Int>]()
        var m = RegexMatcher(program: program, count: text.count)
        text.withUnsafeBufferPointer { t in
            var start = 0
            var lastEnd = -1
            while start <= t.count {
                guard let r = m.search(t, from: start) else { break }
                if r.isEmpty && r.lowerBound == lastEnd {
                    start += 1
                    continue
                }
                out.append(r)
                lastEnd = r.upperBound
                start = r.upperBound
            }
        }
        return out
    }

    /// The matches in `string` as scalar offset ranges.
    public func matches(in string: String) -> [Range<Int>] {
        matches(in: string.unicodeScalars.map { $0.value })
    }

    /// The matched substrings of `string` (convenience for tests and tools).
    public func matchedStrings(in string: String) -> [String] {
        let scalars = Array(string.unicodeScalars)
        return matches(in: scalars.map { $0.value }).map { r in
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            return String(s)
        }
    }

    /// The first match starting at or after `from`.
    public func firstMatch(in text: [UInt32], from: Int = 0) -> Range<Int>? {
        var m = RegexMatcher(program: program, count: text.count)
        return text.withUnsafeBufferPointer { m.search($0, from: from) }
    }
}

final class RegexProgram: Sendable {
    let insts: [RegexInst]
    let sets: [CharSet]
    let registers: Int

    init(insts: [RegexInst], sets: [CharSet], registers: Int) {
        self.insts = insts
        self.sets = sets
        self.registers = registers
    }
}

/// One backtracking entry.
struct RegexBacktrack {
    enum Kind: UInt8 { case resume, giveBack, takeMore, restoreRegister }
    var kind: Kind
    var pc: Int32
    var pos: Int32
    /// giveBack: the lowest position; takeMore: the count so far; restoreRegister: the old value.
    var extra: Int32
}

struct RegexMatcher {
    let program: RegexProgram
    var stack: [RegexBacktrack] = []
    var registers: [Int32]

    init(program: RegexProgram, count: Int) {
        self.program = program
        registers = [Int32](repeating: -1, count: max(program.registers, 1))
        stack.reserveCapacity(64)
    }

    mutating func search(_ text: UnsafeBufferPointer<UInt32>, from: Int) -> Range<Int>? {
        var s = from
        while s <= text.count {
            if let e = run(text, pc: 0, pos: s, mustEndAt: -1) { return s..<e }
            s += 1
        }
        return nil
    }

    /// Runs the program from `pc` at `pos`; the end position of the first successful path
    /// (alternatives in priority order), or nil. `mustEndAt` ≥ 0 makes `match` succeed only there
    /// (look-behind).
    mutating func run(_ text: UnsafeBufferPointer<UInt32>, pc startPc: Int, pos startPos: Int, mustEndAt: Int) -> Int? {
        let base = stack.count
        defer { stack.removeSubrange(base...) }
        var pc = startPc
        var pos = startPos
        let n = text.count
        let program = self.program
        return program.insts.withUnsafeBufferPointer { insts -> Int? in
          program.sets.withUnsafeBufferPointer { sets -> Int? in
            while true {
                let inst = insts[pc]
                var ok = true
                switch inst.op {
                case .char:
                    if pos < n && text[pos] == UInt32(bitPattern: inst.a) { pos += 1; pc += 1 } else { ok = false }
                case .charFold:
                    if pos < n && UnicodeProps.fold(text[pos]) == UInt32(bitPattern: inst.a) { pos += 1; pc += 1 } else { ok = false }
                case .set:
                    if pos < n && sets[Int(inst.a)].contains(text[pos]) { pos += 1; pc += 1 } else { ok = false }
                case .split:
                    stack.append(RegexBacktrack(kind: .resume, pc: inst.b, pos: Int32(pos), extra: 0))
                    pc = Int(inst.a)
                case .jump:
                    pc = Int(inst.a)
                case .repeatSet:
                    let set = sets[Int(inst.a)]
                    let lo = Int(inst.b), hi = inst.c < 0 ? Int.max : Int(inst.c)
                    if inst.d == 1 {
                        // Lazy: the minimum first, one more on each backtrack.
                        var k = 0
                        while k < lo, pos + k < n, set.contains(text[pos + k]) { k += 1 }
                        if k < lo { ok = false; break }
                        pos += k
                        if k < hi { stack.append(RegexBacktrack(kind: .takeMore, pc: Int32(pc), pos: Int32(pos), extra: Int32(k))) }
                        pc += 1
                    } else {
                        var k = 0
                        while k < hi, pos + k < n, set.contains(text[pos + k]) { k += 1 }
                        if k < lo { ok = false; break }
                        if inst.d == 0 && k > lo {
                            stack.append(RegexBacktrack(kind: .giveBack, pc: Int32(pc + 1), pos: Int32(pos + k), extra: Int32(pos + lo)))
                        }
                        pos += k
                        pc += 1
                    }
                case .look:
                    let sub = Int(inst.a)
                    var found = false
                    if inst.b == 0 {
                        found = run(text, pc: sub, pos: pos, mustEndAt: -1) != nil
                    } else {
                        var s = pos
                        while s >= 0 {
                            if run(text, pc: sub, pos: s, mustEndAt: pos) != nil { found = true; break }
                            s -= 1
                        }
                    }
                    if found == (inst.c == 0) { pc += 1 } else { ok = false }
                case .atomic:
                    if let e = run(text, pc: Int(inst.a), pos: pos, mustEndAt: -1) { pos = e; pc += 1 } else { ok = false }
                case .anchor:
                    if anchorHolds(RegexAnchor(rawValue: UInt8(inst.a))!, text, pos) { pc += 1 } else { ok = false }
                case .savePos:
                    let r = Int(inst.a)
                    stack.append(RegexBacktrack(kind: .restoreRegister, pc: inst.a, pos: 0, extra: registers[r]))
                    registers[r] = Int32(pos)
                    pc += 1
                case .checkProgress:
                    if registers[Int(inst.a)] == Int32(pos) { ok = false } else { pc += 1 }
                case .match:
                    if mustEndAt < 0 || pos == mustEndAt { return pos }
                    ok = false
                }
                if ok { continue }
                // Backtrack.
                var resumed = false
                while stack.count > base {
                    let e = stack.removeLast()
                    switch e.kind {
                    case .resume:
                        pc = Int(e.pc); pos = Int(e.pos); resumed = true
                    case .giveBack:
                        let p = Int(e.pos) - 1
                        if p > Int(e.extra) { stack.append(RegexBacktrack(kind: .giveBack, pc: e.pc, pos: Int32(p), extra: e.extra)) }
                        pc = Int(e.pc); pos = p; resumed = true
                    case .takeMore:
                        let inst = insts[Int(e.pc)]
                        let p = Int(e.pos)
                        let hi = inst.c < 0 ? Int.max : Int(inst.c)
                        if p < n && sets[Int(inst.a)].contains(text[p]) {
                            let k = Int(e.extra) + 1
                            if k < hi { stack.append(RegexBacktrack(kind: .takeMore, pc: e.pc, pos: Int32(p + 1), extra: Int32(k))) }
                            pc = Int(e.pc) + 1; pos = p + 1; resumed = true
                        }
                    case .restoreRegister:
                        registers[Int(e.pc)] = e.extra
                    }
                    if resumed { break }
                }
                if !resumed { return nil }
            }
          }
        }
    }

    func anchorHolds(_ a: RegexAnchor, _ text: UnsafeBufferPointer<UInt32>, _ pos: Int) -> Bool {
        let n = text.count
        switch a {
        case .lineStart: return pos == 0 || text[pos - 1] == 0x0A
        case .lineEnd: return pos == n || text[pos] == 0x0A
        case .textStart: return pos == 0
        case .textEnd: return pos == n
        case .textEndBeforeNewline: return pos == n || (pos == n - 1 && text[pos] == 0x0A)
        case .wordBoundary, .notWordBoundary:
            let before = pos > 0 && UnicodeProps.isWord(text[pos - 1])
            let after = pos < n && UnicodeProps.isWord(text[pos])
            return (before != after) == (a == .wordBoundary)
        }
    }
}
