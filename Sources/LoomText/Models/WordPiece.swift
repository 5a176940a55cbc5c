/// WordPiece (BERT): greedy longest-match-first. From the start of the word, the longest
/// vocabulary token that is a prefix is taken; then the longest continuation spelled with
/// `continuingSubwordPrefix` ("##"), and so on. A word with a part no token covers, or longer
/// than `maxInputCharsPerWord` scalars, becomes the single unknown token.
public struct WordPieceModel: Sendable {
    public let vocab: TokenTable
    public let unknownToken: String
    let unknownId: Int?
    public let continuingSubwordPrefix: String
    public let maxInputCharsPerWord: Int
    private let prefixScalars: [UInt32]

    public init(vocab: TokenTable, unknownToken: String = "[UNK]", continuingSubwordPrefix: String = "##",
                maxInputCharsPerWord: Int = 100) {
        self.vocab = vocab
        self.unknownToken = unknownToken
        unknownId = vocab.lookup(unknownToken)
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        prefixScalars = continuingSubwordPrefix.unicodeScalars.map { $0.value }
    }

    /// Appends the ids of one pre-tokenized word. A word needing the unknown token adds nothing
    /// when the vocabulary has none.
    public func tokenize(_ word: [UInt32], into out: inout [Int]) {
        if word.isEmpty { return }
        if word.count > maxInputCharsPerWord {
            if let u = unknownId { out.append(u) }
            return
        }
        var scratch = [UInt8]()
        var buffer = [UInt32]()
        var pieces = [Int]()
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int? = nil
            while start < end {
                let id: Int?
                if start > 0 {
                    buffer.removeAll(keepingCapacity: true)
                    buffer.append(contentsOf: prefixScalars)
                    buffer.append(contentsOf: word[start..<end])
                    id = vocab.lookup(scalars: buffer[...], scratch: &scratch)
                } else {
                    id = vocab.lookup(scalars: word[start..<end], scratch: &scratch)
                }
                if let id { found = id; break }
                end -= 1
            }
            guard let id = found else {
                if let u = unknownId { out.append(u) }
                return
            }
            pieces.append(id)
            start = end
        }
        out.append(contentsOf: pieces)
    }
}
