/// WordLevel: each word is one vocabulary token, or the unknown token.
public struct WordLevelModel: Sendable {
    public let vocab: TokenTable
    public let unknownToken: String
    let unknownId: Int?

    public init(vocab: TokenTable, unknownToken: String = "[UNK]") {
        self.vocab = vocab
        self.unknownToken = unknownToken
        unknownId = vocab.lookup(unknownToken)
    }

    public func tokenize(_ word: [UInt32], into out: inout [Int]) {
        if word.isEmpty { return }
        var scratch = [UInt8]()
        if let id = vocab.lookup(scalars: word[...], scratch: &scratch) {
            out.append(id)
        } else if let u = unknownId {
            out.append(u)
        }
    }
}
