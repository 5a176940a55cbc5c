import LoomCore

/// Byte-pair encoding (the `BPE` model of tokenizer.json).
///
/// A word starts as one symbol per scalar (with `continuingSubwordPrefix` on all but the first
/// and `endOfWordSuffix` on the last, when set). A scalar missing from the vocabulary becomes its
/// `<0xNN>` byte tokens (`byteFallback`), else the unknown token (runs fused with `fuseUnknown`),
/// else it is dropped. Then, repeatedly, the adjacent pair with the lowest merge rank is merged,
/// the leftmost on ties, until no pair has a merge. With `ignoreMerges`, a word that is itself
/// in the vocabulary is emitted as that one token.
public struct BPEModel: Sendable {
    public let vocab: TokenTable
    /// (left id << 32 | right id) → (rank, merged id).
    let merges: [UInt64: (rank: Int32, id: Int32)]
    public let unknownToken: String?
    let unknownId: Int?
    public let continuingSubwordPrefix: String?
    public let endOfWordSuffix: String?
    public let fuseUnknown: Bool
    public let byteFallback: Bool
    public let ignoreMerges: Bool
    /// The id of `<0xNN>` for each byte (-1 when missing).
    let byteIds: [Int32]
    private let prefixScalars: [UInt32]
    private let suffixScalars: [UInt32]

    /// `merges` are pairs of token texts in rank order. Throws when a merge names a token
    /// missing from the vocabulary (or its result is missing).
    public init(vocab: TokenTable, merges: [(String, String)], unknownToken: String? = nil,
                continuingSubwordPrefix: String? = nil, endOfWordSuffix: String? = nil,
                fuseUnknown: Bool = false, byteFallback: Bool = false, ignoreMerges: Bool = false,
                path: String = "model") throws(LoomError) {
        self.vocab = vocab
        self.unknownToken = unknownToken
        unknownId = unknownToken.flatMap { vocab.lookup($0) }
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        prefixScalars = continuingSubwordPrefix.map { $0.unicodeScalars.map { $0.value } } ?? []
        suffixScalars = endOfWordSuffix.map { $0.unicodeScalars.map { $0.value } } ?? []
        guard merges.count < Int(Int32.max) else {
            throw LoomError(.invalidModel, "\(path).merges", "has \(merges.count) merges, more than \(Int32.max - 1)")
        }
        var table = [UInt64: (rank: Int32, id: Int32)]()
        table.reserveCapacity(merges.count)
        let prefixLength = continuingSubwordPrefix?.utf8.count ?? 0
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = vocab.lookup(a) else {
                throw LoomError(.invalidModel, "\(path).merges[\(rank)]", "token \"\(a)\" of the merge is not in the vocabulary")
            }
            guard let ib = vocab.lookup(b) else {
                throw LoomError(.invalidModel, "\(path).merges[\(rank)]", "token \"\(b)\" of the merge is not in the vocabulary")
            }
            var merged = Array(a.utf8)
            let bBytes = Array(b.utf8)
            if prefixLength > 0, let p = continuingSubwordPrefix, b.utf8.starts(with: p.utf8) {
                merged.append(contentsOf: bBytes[prefixLength...])
            } else {
                merged.append(contentsOf: bBytes)
            }
            guard let im = vocab.lookup(utf8: merged) else {
                throw LoomError(.invalidModel, "\(path).merges[\(rank)]", "the merged token \"\(String(decoding: merged, as: UTF8.self))\" is not in the vocabulary")
            }
            // Ids from the table are in 0..<Tokenizer.idLimit and ranks below merges.count (checked
            // above), so these conversions are exact.
            let key = UInt64(UInt32(ia)) << 32 | UInt64(UInt32(ib))
            if table[key] == nil { table[key] = (Int32(rank), Int32(im)) }
        }
        self.merges = table
        var bytes = [Int32](repeating: -1, count: 256)
        if byteFallback {
            let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
            for b in 0..<256 {
                let name = "<0x" + String(hex[b >> 4]) + String(hex[b & 15]) + ">"
                if let id = vocab.lookup(name) { bytes[b] = Int32(id) }
            }
        }
        byteIds = bytes
    }

    /// Appends the ids of one pre-tokenized word.
    public func tokenize(_ word: [UInt32], into out: inout [Int]) {
        if word.isEmpty { return }
        var scratch = [UInt8]()
        if ignoreMerges, let id = vocab.lookup(scalars: word[...], scratch: &scratch) {
            out.append(id)
            return
        }
        // Initial symbols.
        var symbols = [Int32]()
        symbols.reserveCapacity(word.count)
        var pendingUnknown = false
        var buffer = [UInt32]()
        for i in 0..<word.count {
            var id: Int?
            if prefixScalars.isEmpty && suffixScalars.isEmpty {
                id = vocab.lookup(scalars: word[i...i], scratch: &scratch)
            } else {
                buffer.removeAll(keepingCapacity: true)
                if i > 0 { buffer.append(contentsOf: prefixScalars) }
                buffer.append(word[i])
                if i == word.count - 1 { buffer.append(contentsOf: suffixScalars) }
                id = vocab.lookup(scalars: buffer[...], scratch: &scratch)
            }
            if let id {
                if pendingUnknown, let u = unknownId { symbols.append(Int32(u)); pendingUnknown = false }
                symbols.append(Int32(id))
                continue
            }
            if byteFallback {
                var bytes = [UInt8]()
                if prefixScalars.isEmpty && suffixScalars.isEmpty {
                    TokenTable.appendUTF8(word[i], to: &bytes)
                } else {
                    for c in buffer { TokenTable.appendUTF8(c, to: &bytes) }
                }
                if bytes.allSatisfy({ byteIds[Int($0)] >= 0 }) {
                    // The library does not flush a pending unknown token here.
                    for b in bytes { symbols.append(byteIds[Int(b)]) }
                    continue
                }
            }
            if let u = unknownId {
                if pendingUnknown && !fuseUnknown { symbols.append(Int32(u)) }
                pendingUnknown = true
            }
        }
        if pendingUnknown, let u = unknownId { symbols.append(Int32(u)) }
        mergeAll(&symbols)
        for s in symbols { out.append(Int(s)) }
    }

    /// Applies merges lowest rank first (leftmost on ties) until none applies. Positions are
    /// `Int` (a word may have any number of symbols).
    func mergeAll(_ symbols: inout [Int32]) {
        let n = symbols.count
        if n < 2 { return }
        if n <= 12 { mergeShort(&symbols); return }
        var prev = [Int](repeating: -1, count: n)
        var next = [Int](repeating: -1, count: n)
        var alive = [Bool](repeating: true, count: n)
        for i in 0..<n { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1 }
        var heap = MergeHeap()
        for i in 0..<(n - 1) {
            if let m = merges[UInt64(UInt32(bitPattern: symbols[i])) << 32 | UInt64(UInt32(bitPattern: symbols[i + 1]))] {
                heap.push(MergeHeap.Entry(rank: m.rank, pos: i, id: m.id))
            }
        }
        while let top = heap.pop() {
            let p = top.pos
            guard alive[p], next[p] >= 0 else { continue }
            let q = next[p]
            // The pair may have changed since this entry was queued.
            guard let m = merges[UInt64(UInt32(bitPattern: symbols[p])) << 32 | UInt64(UInt32(bitPattern: symbols[q]))],
                  m.id == top.id else { continue }
            symbols[p] = m.id
            alive[q] = false
            next[p] = next[q]
            if next[q] >= 0 { prev[next[q]] = p }
            if prev[p] >= 0 {
                let l = prev[p]
                if let m2 = merges[UInt64(UInt32(bitPattern: symbols[l])) << 32 | UInt64(UInt32(bitPattern: symbols[p]))] {
                    heap.push(MergeHeap.Entry(rank: m2.rank, pos: l, id: m2.id))
                }
            }
            if next[p] >= 0 {
                let r = next[p]
                if let m2 = merges[UInt64(UInt32(bitPattern: symbols[p])) << 32 | UInt64(UInt32(bitPattern: symbols[r]))] {
                    heap.push(MergeHeap.Entry(rank: m2.rank, pos: p, id: m2.id))
                }
            }
        }
        var out = [Int32]()
        out.reserveCapacity(n)
        var i = 0
        while i >= 0 && i < n { out.append(symbols[i]); i = next[i] }
        symbols = out
    }
}

extension BPEModel {
    @inline(__always)
    func merge(_ a: Int32, _ b: Int32) -> (rank: Int32, id: Int32)? {
        merges[UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))]
    }

    /// The same merges for short words by rescanning: the current pair of lowest rank, the
    /// leftmost on ties, is merged until none has a merge (no allocation beyond `symbols`).
    func mergeShort(_ symbols: inout [Int32]) {
        // ranks[i]: the merge of (symbols[i], symbols[i+1]), recomputed only next to a merge.
        var ranks = (Int32(-1), Int32(-1), Int32(-1), Int32(-1), Int32(-1), Int32(-1),
                     Int32(-1), Int32(-1), Int32(-1), Int32(-1), Int32(-1), Int32(-1))
        var ids = ranks
        withUnsafeMutableBytes(of: &ranks) { rb in
          withUnsafeMutableBytes(of: &ids) { ib in
            let r = rb.bindMemory(to: Int32.self)
            let d = ib.bindMemory(to: Int32.self)
            var count = symbols.count
            for i in 0..<(count - 1) {
                if let m = merge(symbols[i], symbols[i + 1]) { r[i] = m.rank; d[i] = m.id } else { r[i] = -1 }
            }
            while count > 1 {
                var best = -1
                for i in 0..<(count - 1) where r[i] >= 0 && (best < 0 || r[i] < r[best]) { best = i }
                if best < 0 { break }
                symbols[best] = d[best]
                symbols.remove(at: best + 1)
                count -= 1
                // Pairs right of the merge move one place left.
                var i = best + 1
                while i < count - 1 { r[i] = r[i + 1]; d[i] = d[i + 1]; i += 1 }
                if best > 0 {
                    if let m = merge(symbols[best - 1], symbols[best]) { r[best - 1] = m.rank; d[best - 1] = m.id } else { r[best - 1] = -1 }
                }
                if best < count - 1 {
                    if let m = merge(symbols[best], symbols[best + 1]) { r[best] = m.rank; d[best] = m.id } else { r[best] = -1 }
                }
            }
          }
        }
    }
}

/// A binary min-heap of merge candidates ordered by (rank, position).
struct MergeHeap {
    struct Entry { var rank: Int32; var pos: Int; var id: Int32 }
    var items: [Entry] = []

    @inline(__always) static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos
    }

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if MergeHeap.less(items[i], items[parent]) { items.swapAt(i, parent); i = parent } else { break }
        }
    }

    mutating func pop() -> Entry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && MergeHeap.less(items[l], items[m]) { m = l }
                if r < items.count && MergeHeap.less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m); i = m
            }
        }
        return first
    }
}
