/// Unigram (SentencePiece's model): the segmentation of the word whose pieces' scores sum
/// highest (Viterbi), as the library computes it.
///
/// Positions are visited left to right and, from each, the vocabulary pieces that start there
/// shortest first; a path replaces the best one ending at the same place only with a strictly
/// higher score (so ties go to the earlier candidate). A character no single piece covers is an
/// unknown node scored `min(score) - 10`. Adjacent unknown nodes are fused into one piece; a piece
/// not in the vocabulary becomes its `<0xNN>` byte tokens with `byteFallback`, else the unknown
/// token (or nothing when the model has none).
public struct UnigramModel: Sendable {
    public let vocab: TokenTable
    public let scores: [Double]
    public let unknownId: Int?
    public let byteFallback: Bool
    let minScore: Double
    /// Trie over scalars: (node << 21 | scalar) → child node; node 0 is the root.
    let edges: [UInt64: Int32]
    /// The piece id ending at each node (-1: none).
    let terminal: [Int32]
    let byteIds: [Int32]

    public init(pieces: [(String, Double)], unknownId: Int?, byteFallback: Bool) {
        var table = TokenTable()
        var edges = [UInt64: Int32]()
        var terminal: [Int32] = [-1]
        var minScore = Double.infinity
        for (id, (piece, score)) in pieces.enumerated() {
            table.insert(piece, id: id)
            if score < minScore { minScore = score }
            var node: Int32 = 0
            for u in piece.unicodeScalars {
                let key = UInt64(node) << 21 | UInt64(u.value)
                if let next = edges[key] {
                    node = next
                } else {
                    terminal.append(-1)
                    let next = Int32(terminal.count - 1)
                    edges[key] = next
                    node = next
                }
            }
            // The library's token → id map keeps the last id of a repeated piece.
            if node != 0 { terminal[Int(node)] = Int32(id) }
        }
        vocab = table
        scores = pieces.map { $0.1 }
        self.unknownId = unknownId
        self.byteFallback = byteFallback
        self.minScore = minScore
        self.edges = edges
        self.terminal = terminal
        var bytes = [Int32](repeating: -1, count: 256)
        if byteFallback {
            for b in 0..<256 {
                let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
                if let id = table.lookup("<0x" + String(hex[b >> 4]) + String(hex[b & 15]) + ">") { bytes[b] = Int32(id) }
            }
        }
        byteIds = bytes
    }

    public func tokenize(_ word: [UInt32], into out: inout [Int]) {
        let n = word.count
        if n == 0 { return }
        let unkScore = minScore - 10.0
        var best = [Double](repeating: 0, count: n + 1)
        var from = [Int](repeating: -1, count: n + 1)
        var ids = [Int](repeating: -1, count: n + 1)
        for start in 0..<n {
            if start > 0 && from[start] < 0 { continue }  // unreachable (cannot happen: every char gets a node)
            let base = best[start]
            var node: Int32 = 0
            var single = false
            var k = start
            while k < n, let next = edges[UInt64(node) << 21 | UInt64(word[k])] {
                node = next
                k += 1
                let id = Int(terminal[Int(node)])
                if id >= 0 {
                    let candidate = scores[id] + base
                    if from[k] < 0 || candidate > best[k] { best[k] = candidate; from[k] = start; ids[k] = id }
                    if k == start + 1 { single = true }
                }
            }
            if !single {
                let candidate = unkScore + base
                if from[start + 1] < 0 || candidate > best[start + 1] {
                    best[start + 1] = candidate; from[start + 1] = start; ids[start + 1] = -2
                }
            }
        }
        // Back from the end; adjacent unknown nodes fused.
        var pieces = [(Int, Int, Bool)]()  // (start, end, isUnknown)
        var end = n
        while end > 0 {
            let s = from[end]
            let unknown = ids[end] == -2 || (unknownId != nil && ids[end] == unknownId!)
            if unknown, let last = pieces.last, last.2, last.0 == end {
                pieces[pieces.count - 1] = (s, last.1, true)
            } else {
                pieces.append((s, end, unknown))
            }
            end = s
        }
        var scratch = [UInt8]()
        for (s, e, unknown) in pieces.reversed() {
            if !unknown, ids[e] >= 0 {
                // The node's piece: its id (as the library re-reads it from the text).
                out.append(vocab.lookup(scalars: word[s..<e], scratch: &scratch) ?? ids[e])
                continue
            }
            if let id = vocab.lookup(scalars: word[s..<e], scratch: &scratch) { out.append(id); continue }
            if byteFallback {
                var bytes = [UInt8]()
                for c in word[s..<e] { TokenTable.appendUTF8(c, to: &bytes) }
                if bytes.allSatisfy({ byteIds[Int($0)] >= 0 }) {
                    for b in bytes { out.append(Int(byteIds[Int(b)])) }
                    continue
                }
            }
            if let u = unknownId { out.append(u) }
        }
    }
}
