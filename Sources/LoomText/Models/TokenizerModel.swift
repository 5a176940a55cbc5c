/// The model of a tokenizer.
public enum TokenizerModel: Sendable {
    case bpe(BPEModel)
    case wordPiece(WordPieceModel)
    case wordLevel(WordLevelModel)
    case unigram(UnigramModel)

    public var vocab: TokenTable {
        switch self {
        case .bpe(let m): return m.vocab
        case .wordPiece(let m): return m.vocab
        case .wordLevel(let m): return m.vocab
        case .unigram(let m): return m.vocab
        }
    }

    @inline(__always)
    public func tokenize(_ word: [UInt32], into out: inout [Int]) {
        switch self {
        case .bpe(let m): m.tokenize(word, into: &out)
        case .wordPiece(let m): m.tokenize(word, into: &out)
        case .wordLevel(let m): m.tokenize(word, into: &out)
        case .unigram(let m): m.tokenize(word, into: &out)
        }
    }
}
