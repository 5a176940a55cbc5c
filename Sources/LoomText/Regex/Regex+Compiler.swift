import LoomCore

/// One instruction of the backtracking machine. Operands by opcode:
///
/// | op | a | b | c | d |
/// |---|---|---|---|---|
/// | char / charFold | scalar (folded for charFold) | | | |
/// | set | set index | | | |
/// | split | first choice pc | second choice pc | | |
/// | jump | target pc | | | |
/// | repeatSet | set index | min | max (-1 = unbounded) | 0 greedy, 1 lazy, 2 possessive |
/// | look | sub-program pc | 1 = behind | 1 = negative | behind: the body's longest match (-1 = unbounded) |
/// | atomic | sub-program pc | | | |
/// | anchor | RegexAnchor raw value | | | |
/// | savePos / checkProgress | register | | | |
/// | match | | | | |
struct RegexInst: Sendable {
    enum Op: UInt8, Sendable {
        case char, charFold, set, split, jump, repeatSet, look, atomic, anchor, savePos, checkProgress, match
    }
    var op: Op
    var a: Int32 = 0
    var b: Int32 = 0
    var c: Int32 = 0
    var d: Int32 = 0
}

/// Compiles a `RegexNode` tree into instructions: the main program starts at pc 0; every
/// look-around and atomic group is a sub-program ending in `match`, placed after it.
struct RegexCompiler {
    var insts: [RegexInst] = []
    var sets: [CharSet] = []
    var registers = 0
    var pending: [(node: RegexNode, patch: Int)] = []
    static let maxInstructions = 200_000

    static func compile(_ root: RegexNode) throws(LoomError) -> (insts: [RegexInst], sets: [CharSet], registers: Int) {
        var c = RegexCompiler()
        try c.emit(root)
        c.insts.append(RegexInst(op: .match))
        // Sub-programs (look-arounds, atomic groups) are compiled after the main program; they
        // may queue further sub-programs.
        while !c.pending.isEmpty {
            let (node, patch) = c.pending.removeFirst()
            c.insts[patch].a = Int32(c.insts.count)
            try c.emit(node)
            c.insts.append(RegexInst(op: .match))
        }
        return (c.insts, c.sets, c.registers)
    }

    mutating func append(_ i: RegexInst) throws(LoomError) {
        if insts.count >= RegexCompiler.maxInstructions {
            throw LoomError(.invalidArgument, "regex", "the pattern is too large once its counted repetitions are expanded")
        }
        insts.append(i)
    }

    mutating func addSet(_ s: CharSet) -> Int32 {
        sets.append(s)
        return Int32(sets.count - 1)
    }

    mutating func emit(_ node: RegexNode) throws(LoomError) {
        switch node {
        case .empty: break
        case .char(let v, let fold): try append(RegexInst(op: fold ? .charFold : .char, a: Int32(bitPattern: v)))
        case .set(let s): try append(RegexInst(op: .set, a: addSet(s)))
        case .concat(let items): for n in items { try emit(n) }
        case .alternation(let branches):
            // split L1, next; L1: b0; jump end; next: split L2, next2 …
            var jumps = [Int]()
            for (i, b) in branches.enumerated() {
                if i + 1 < branches.count {
                    let split = insts.count
                    try append(RegexInst(op: .split, a: Int32(split + 1)))
                    try emit(b)
                    jumps.append(insts.count)
                    try append(RegexInst(op: .jump))
                    insts[split].b = Int32(insts.count)
                } else {
                    try emit(b)
                }
            }
            for j in jumps { insts[j].a = Int32(insts.count) }
        case .anchor(let a): try append(RegexInst(op: .anchor, a: Int32(a.rawValue)))
        case .lookaround(let inner, let behind, let negative):
            pending.append((inner, insts.count))
            // A look-behind only tries the start positions its body can reach (same result,
            // linear instead of quadratic time).
            let longest = behind ? RegexCompiler.maxLength(inner) ?? -1 : -1
            try append(RegexInst(op: .look, b: behind ? 1 : 0, c: negative ? 1 : 0, d: Int32(longest)))
        case .atomic(let inner):
            pending.append((inner, insts.count))
            try append(RegexInst(op: .atomic))
        case .repetition(let body, let lo, let hi, let greedy, let possessive):
            try emitRepetition(body, lo, hi, greedy, possessive)
        }
    }

    mutating func emitRepetition(_ body: RegexNode, _ lo: Int, _ hi: Int, _ greedy: Bool, _ possessive: Bool) throws(LoomError) {
        // One character per iteration: a single counted-loop instruction.
        var single: CharSet? = nil
        switch body {
        case .set(let s): single = s
        case .char(let v, let fold):
            var s = CharSet()
            s.items = [.range(v, v)]
            s.caseInsensitive = fold
            s.finish()
            single = s
        default: break
        }
        if let s = single {
            let mode: Int32 = possessive ? 2 : (greedy ? 0 : 1)
            try append(RegexInst(op: .repeatSet, a: addSet(s), b: Int32(lo), c: Int32(hi), d: mode))
            return
        }
        if possessive {
            try emit(.atomic(.repetition(body, min: lo, max: hi, greedy: true, possessive: false)))
            return
        }
        for _ in 0..<lo { try emit(body) }
        let empty = RegexCompiler.canMatchEmpty(body)
        if hi < 0 {
            // L: split body, end (greedy) | split end, body (lazy)
            let loop = insts.count
            try append(RegexInst(op: .split))
            let bodyStart = insts.count
            var reg: Int32 = -1
            if empty {
                reg = Int32(registers); registers += 1
                try append(RegexInst(op: .savePos, a: reg))
            }
            try emit(body)
            if empty { try append(RegexInst(op: .checkProgress, a: reg)) }
            try append(RegexInst(op: .jump, a: Int32(loop)))
            let end = Int32(insts.count)
            insts[loop].a = greedy ? Int32(bodyStart) : end
            insts[loop].b = greedy ? end : Int32(bodyStart)
        } else if hi > lo {
            var splits = [Int]()
            for _ in lo..<hi {
                splits.append(insts.count)
                try append(RegexInst(op: .split))
                insts[insts.count - 1].a = Int32(insts.count)
                try emit(body)
            }
            let end = Int32(insts.count)
            for s in splits {
                let bodyStart = insts[s].a
                insts[s].a = greedy ? bodyStart : end
                insts[s].b = greedy ? end : bodyStart
            }
        }
    }

    /// The most scalars a match of `node` can span; nil when unbounded (or beyond 2^24).
    static func maxLength(_ node: RegexNode) -> Int? {
        let cap = 1 << 24
        switch node {
        case .empty, .anchor, .lookaround: return 0
        case .char, .set: return 1
        case .atomic(let b): return maxLength(b)
        case .concat(let items):
            var total = 0
            for n in items {
                guard let m = maxLength(n) else { return nil }
                total += m
                if total > cap { return nil }
            }
            return total
        case .alternation(let bs):
            var most = 0
            for b in bs {
                guard let m = maxLength(b) else { return nil }
                most = max(most, m)
            }
            return most
        case .repetition(let b, _, let hi, _, _):
            guard let m = maxLength(b) else { return nil }
            if m == 0 { return 0 }
            if hi < 0 || hi > cap / m { return nil }
            return m * hi
        }
    }

    static func canMatchEmpty(_ node: RegexNode) -> Bool {
        switch node {
        case .empty, .anchor, .lookaround: return true
        case .char, .set: return false
        case .concat(let items): return items.allSatisfy { canMatchEmpty($0) }
        case .alternation(let bs): return bs.contains { canMatchEmpty($0) }
        case .repetition(let b, let lo, _, _, _): return lo == 0 || canMatchEmpty(b)
        case .atomic(let b): return canMatchEmpty(b)
        }
    }
}
