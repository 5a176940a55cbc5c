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
///
/// **Step budget.** A backtracking matcher can take exponential time on a hostile pattern:
/// `(a+)+$`, `(\w+\s?)*$` or `(.*a){25}` on 33 `a`s and a `!` would run for minutes to hours. So
/// every call of `matches(in:)` / `firstMatch(in:)` (one application of the pattern to one text:
/// the `Split` pre-tokenizer and `Replace` normalizer make one per piece of text) on a text of n
/// scalars may take at most `stepBudget(length: n)` = `stepBudgetFloor + stepBudgetPerScalar ·
/// (n + 1)` steps, one million plus one thousand per scalar. A step is one instruction of the
/// matcher or one scalar scanned by a single-character loop, and all the work of the call counts
/// (every start position, backtrack and look-around), so a call's time is linear in n whatever
/// the pattern (at most ~1 s for 100k scalars in an optimized build, milliseconds for the floor).
/// Past the budget the call throws a `LoomError` of kind `.invalidModel` whose path is `place`,
/// the field the pattern came from (`pre_tokenizer.pattern.Regex`), saying the pattern needs too
/// many backtracking steps on this input. The count depends only on the pattern and the text,
/// never on time, so the outcome is deterministic.
///
/// The patterns of real tokenizers (GPT-2, Llama 3, Qwen 2, BERT-style splits) take at most ~35
/// steps per scalar on the tokenizer corpus and on 100k-scalar runs of letters, digits, spaces,
/// newlines or punctuation (each scalar is looked at by a bounded number of alternatives from a
/// bounded number of start positions; a look-behind only tries the start positions its body can
/// reach), so the thousand allowed leave a margin of ~30×. What the budget refuses is a pattern
/// whose work grows faster than the text (nested or adjacent quantifiers over the same characters,
/// or a search that rescans the rest of a long text from every start position), on the inputs
/// where that cost explodes.
public struct Regex: Sendable {
    public let pattern: String
    /// Where the pattern comes from, for errors at match time (`pre_tokenizer.pattern.Regex`);
    /// "regex" when not given.
    public let place: String
    let program: RegexProgram

    /// Steps one matching call may take whatever the text's length (see the type's comment).
    public static let stepBudgetFloor: Int64 = 1_000_000
    /// Steps one matching call may take per scalar of the text (see the type's comment).
    public static let stepBudgetPerScalar: Int64 = 1_000
    /// Texts must be shorter than this (offsets are kept as 32-bit integers).
    public static let maxTextLength = Int(Int32.max)

    /// The steps one matching call on a text of `length` scalars may take.
    public static func stepBudget(length: Int) -> Int64 {
        stepBudgetFloor + stepBudgetPerScalar * (Int64(length) + 1)
    }

    public init(_ pattern: String, place: String = "regex") throws(LoomError) {
        self.pattern = pattern
        self.place = place
        var parser = RegexParser(pattern)
        let root = try parser.parse()
        let (insts, sets, registers) = try RegexCompiler.compile(root)
        program = RegexProgram(insts: insts, sets: sets, registers: registers)
    }

    /// The non-overlapping matches in `text`, left to right, as scalar offset ranges. After an
    /// empty match the search resumes one scalar further, and an empty match right where the
    /// previous match ended is skipped (Oniguruma's iteration, as the `onig` crate does it).
    /// Throws when the matching exceeds the step budget (see the type's comment).
    public func matches(in text: [UInt32]) throws(LoomError) -> [Range<Int>] {
        var m = try matcher(text)
        var out = [Range<Int>]()
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
        if m.exhausted { throw budgetExceeded(text.count, m.stepLimit) }
        return out
    }

    /// The matches in `string` as scalar offset ranges.
    public func matches(in string: String) throws(LoomError) -> [Range<Int>] {
        try matches(in: string.unicodeScalars.map { $0.value })
    }

    /// The matched substrings of `string` (convenience for tests and tools).
    public func matchedStrings(in string: String) throws(LoomError) -> [String] {
        let scalars = Array(string.unicodeScalars)
        return try matches(in: scalars.map { $0.value }).map { r in
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            return String(s)
        }
    }

    /// The first match starting at or after `from`.
    public func firstMatch(in text: [UInt32], from: Int = 0) throws(LoomError) -> Range<Int>? {
        var m = try matcher(text)
        let r = text.withUnsafeBufferPointer { m.search($0, from: from) }
        if m.exhausted { throw budgetExceeded(text.count, m.stepLimit) }
        return r
    }

    private func matcher(_ text: [UInt32]) throws(LoomError) -> RegexMatcher {
        guard text.count < Regex.maxTextLength else {
            throw LoomError(.invalidInput, place, "the text has \(text.count) characters, more than a pattern can be matched against (\(Regex.maxTextLength - 1))")
        }
        return RegexMatcher(program: program, count: text.count, stepLimit: Regex.stepBudget(length: text.count))
    }

    private func budgetExceeded(_ length: Int, _ limit: Int64) -> LoomError {
        LoomError(.invalidModel, place, "the pattern /\(pattern)/ needs more than \(limit) backtracking steps on this input of \(length) characters (the budget is \(Regex.stepBudgetFloor) + \(Regex.stepBudgetPerScalar) per character): it backtracks catastrophically (nested or adjacent quantifiers over the same characters); rewrite it, e.g. with possessive quantifiers or atomic groups")
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

/// The backtracking machine for one matching call. `steps` counts its work against `stepLimit`
/// over the whole call (every start position, backtrack and look-around); once the limit is
/// passed it sets `exhausted` and every `run` unwinds with nil (the caller then throws).
struct RegexMatcher {
    let program: RegexProgram
    var stack: [RegexBacktrack] = []
    var registers: [Int32]
    var steps: Int64 = 0
    let stepLimit: Int64
    private(set) var exhausted = false

    init(program: RegexProgram, count: Int, stepLimit: Int64) {
        self.program = program
        self.stepLimit = stepLimit
        registers = [Int32](repeating: -1, count: max(program.registers, 1))
        stack.reserveCapacity(64)
    }

    /// The first match starting at or after `from`; nil when there is none or the step budget
    /// ran out (`exhausted`).
    mutating func search(_ text: UnsafeBufferPointer<UInt32>, from: Int) -> Range<Int>? {
        var s = from
        while s <= text.count {
            if let e = run(text, pc: 0, pos: s, mustEndAt: -1) { return s..<e }
            if exhausted { return nil }
            s += 1
        }
        return nil
    }

    /// Runs the program from `pc` at `pos`; the end position of the first successful path
    /// (alternatives in priority order), or nil (also when the step budget runs out, which sets
    /// `exhausted`). `mustEndAt` ≥ 0 makes `match` succeed only there (look-behind).
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
                steps += 1
                if steps > stepLimit { exhausted = true; return nil }
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
                        steps += Int64(k)
                        if k < lo { ok = false; break }
                        pos += k
                        if k < hi { stack.append(RegexBacktrack(kind: .takeMore, pc: Int32(pc), pos: Int32(pos), extra: Int32(k))) }
                        pc += 1
                    } else {
                        var k = 0
                        while k < hi, pos + k < n, set.contains(text[pos + k]) { k += 1 }
                        steps += Int64(k)
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
                        // A match of the body ending at pos starts at most `d` scalars earlier
                        // (d < 0: no bound).
                        let lowest = inst.d < 0 ? 0 : max(0, pos - Int(inst.d))
                        var s = pos
                        while s >= lowest {
                            if run(text, pc: sub, pos: s, mustEndAt: pos) != nil { found = true; break }
                            if exhausted { return nil }
                            s -= 1
                        }
                    }
                    if exhausted { return nil }
                    if found == (inst.c == 0) { pc += 1 } else { ok = false }
                case .atomic:
                    if let e = run(text, pc: Int(inst.a), pos: pos, mustEndAt: -1) { pos = e; pc += 1 } else {
                        if exhausted { return nil }
                        ok = false
                    }
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
