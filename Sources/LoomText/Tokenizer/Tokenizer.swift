import LoomCore

/// A token added on top of the model's vocabulary (the `added_tokens` of tokenizer.json).
public struct AddedToken: Sendable, Equatable {
    public var id: Int
    public var content: String
    /// Special tokens are skipped by `decode(skipSpecialTokens: true)`.
    public var special: Bool
    /// Matches only where no word character is directly before or after it.
    public var singleWord: Bool
    /// The whitespace before (lstrip) / after (rstrip) a match belongs to the token.
    public var lstrip: Bool
    public var rstrip: Bool
    /// Matched in the normalized text (with the normalized content) instead of the raw text.
    public var normalized: Bool

    public init(id: Int, content: String, special: Bool, singleWord: Bool = false, lstrip: Bool = false,
                rstrip: Bool = false, normalized: Bool? = nil) {
        self.id = id
        self.content = content
        self.special = special
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized ?? !special
    }
}

/// A complete tokenizer: added tokens, normalizer, pre-tokenizer, model, post-processor and
/// decoder, applied in the order of the Hugging Face `tokenizers` library:
///
/// 1. added tokens with `normalized: false` are found in the raw text (leftmost, longest);
/// 2. the text between them is normalized, and added tokens with `normalized: true` are found in it;
/// 3. the remaining text is pre-tokenized into words, and each word goes through the model;
/// 4. with `addSpecialTokens`, the post-processor adds its special tokens.
///
/// `decode` maps ids to token texts (optionally skipping special added tokens) and runs the
/// decoder. Unlike the library, an id out of range is an error, not silently skipped.
///
/// Every token id is in `0..<Tokenizer.idLimit` (0 ... 2^31 − 2): the loaders refuse a file with
/// another id (vocabulary, added token, post-processor, unknown token, GGUF BOS/EOS), naming the
/// field, so ids and the vocabulary size convert to `Int32` without trapping. Added tokens and
/// post-processor special tokens may have ids beyond the model's vocabulary, as in the library.
///
/// `encode` (and anything else that runs a regex of the file: the normalizer on the added
/// tokens, the decoder) throws a `LoomError` naming the pattern's field when a regex exceeds its
/// step budget on the text (catastrophic backtracking; see `Regex`).
public struct Tokenizer: Sendable {
    /// Token ids are below this (2^31 − 1), so every id and the vocabulary size are `Int32`s.
    public static let idLimit = Int(Int32.max)

    public var model: TokenizerModel
    /// Set it with `setNormalizer`, which re-normalizes the added tokens with `normalized: true`.
    public private(set) var normalizer: Normalizer?
    public var preTokenizer: PreTokenizer?
    /// Its special token ids must be in `0..<idLimit` (`init` checks them).
    public var postProcessor: PostProcessor?
    public var decoder: Decoder?
    /// Beginning/end-of-sequence ids where the source says them (GGUF); nil otherwise.
    public var bosTokenId: Int? = nil
    public var eosTokenId: Int? = nil
    /// tokenizer.json's `truncation.max_length`, if any. Kept for callers; `encode` does not
    /// truncate (nor pad).
    public var truncationMaxLength: Int? = nil
    public private(set) var addedTokens: [AddedToken] = []
    /// Ids of the added tokens → index in `addedTokens`.
    private var addedById: [Int: Int] = [:]
    /// The text decode uses for each added token (by index): its content, or its normalized
    /// content for `normalized: true` tokens when a normalizer changes it (as the library does).
    private var addedDecodeText: [String] = []
    /// UTF-8 of the special tokens' contents: decode skips every id whose text is one of them.
    private var specialContents: Set<[UInt8]> = []
    private var rawMatcher = AddedTokenMatcher()
    private var normalizedMatcher = AddedTokenMatcher()

    /// Throws (kind `.invalidArgument`) for an added token or post-processor id outside
    /// `0..<idLimit`, or when normalizing the added tokens exceeds a regex's step budget.
    public init(model: TokenizerModel, normalizer: Normalizer? = nil, preTokenizer: PreTokenizer? = nil,
                postProcessor: PostProcessor? = nil, decoder: Decoder? = nil, addedTokens: [AddedToken] = []) throws(LoomError) {
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        if let p = postProcessor { try p.checkIds("postProcessor") }
        try setAddedTokens(addedTokens)
    }

    /// Replaces the normalizer and re-normalizes the added tokens with `normalized: true`.
    public mutating func setNormalizer(_ normalizer: Normalizer?) throws(LoomError) {
        self.normalizer = normalizer
        try setAddedTokens(addedTokens)
    }

    /// Replaces the added tokens (empty contents are ignored, as by the library). Throws (kind
    /// `.invalidArgument`, path `addedTokens[i].id`) for an id outside `0..<idLimit`, or when
    /// normalizing a `normalized: true` token exceeds a regex's step budget.
    public mutating func setAddedTokens(_ tokens: [AddedToken]) throws(LoomError) {
        for (i, t) in tokens.enumerated() where t.id < 0 || t.id >= Tokenizer.idLimit {
            throw LoomError(.invalidArgument, "addedTokens[\(i)].id", "token id \(t.id) is outside 0..<\(Tokenizer.idLimit)")
        }
        addedTokens = []
        addedById = [:]
        addedDecodeText = []
        specialContents = []
        var raw = [(content: [UInt32], index: Int)]()
        var norm = [(content: [UInt32], index: Int)]()
        for t in tokens where !t.content.isEmpty {
            let index = addedTokens.count
            addedTokens.append(t)
            addedById[t.id] = index
            if t.special { specialContents.insert(Array(t.content.utf8)) }
            let scalars = t.content.unicodeScalars.map { $0.value }
            if t.normalized {
                // Matched against the normalized text with its normalized content.
                let n = try normalizer?.normalize(scalars) ?? scalars
                norm.append((n, index))
                addedDecodeText.append(Decoder.string(n))
            } else {
                raw.append((scalars, index))
                addedDecodeText.append(t.content)
            }
        }
        rawMatcher = AddedTokenMatcher(raw)
        normalizedMatcher = AddedTokenMatcher(norm)
    }

    /// The number of ids: the model's vocabulary and the added tokens (at most `idLimit`).
    public var vocabularySize: Int {
        var n = model.vocab.idLimit
        for t in addedTokens { n = max(n, t.id + 1) }
        return n
    }

    /// The text of a token id as decode sees it: an added token's content (normalized for a
    /// `normalized: true` token), else the model's token.
    public func token(_ id: Int) -> String? {
        if let i = addedById[id] { return addedDecodeText[i] }
        return model.vocab.token(id)
    }

    /// The id of a token text (added tokens first).
    public func id(of token: String) -> Int? {
        for t in addedTokens where t.content.utf8.elementsEqual(token.utf8) { return t.id }
        return model.vocab.lookup(token)
    }

    /// Whether the text of `id` is the content of a special added token.
    public func isSpecial(_ id: Int) -> Bool {
        guard !specialContents.isEmpty, let t = token(id) else { return false }
        return specialContents.contains(Array(t.utf8))
    }

    // MARK: encode

    /// The ids of `text` (and of the pair's second text), with the post-processor's special
    /// tokens when `addSpecialTokens`; each in `0..<idLimit`. Throws a `LoomError` (kind
    /// `.invalidModel`, path the pattern's field, e.g. `pre_tokenizer.pattern.Regex`) when a
    /// regex of the normalizer or pre-tokenizer exceeds its step budget on this text (see `Regex`).
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true) throws(LoomError) -> [Int] {
        let a = try encodeSequence(text)
        let b = try pair.map { s throws(LoomError) in try encodeSequence(s) }
        if addSpecialTokens, let p = postProcessor { return p.process(a, b) }
        return a + (b ?? [])
    }

    func encodeSequence(_ text: String) throws(LoomError) -> [Int] {
        let scalars = text.unicodeScalars.map { $0.value }
        var ids = [Int]()
        // 1. Added tokens in the raw text.
        for part in rawMatcher.split(scalars, addedTokens) {
            switch part {
            case .token(let id): ids.append(id)
            case .text(let s, let atStart):
                // 2. Normalize, then added tokens in the normalized text.
                let normalized = try normalizer?.normalize(s) ?? s
                for sub in normalizedMatcher.split(normalized, addedTokens, atStart: atStart) {
                    switch sub {
                    case .token(let id): ids.append(id)
                    case .text(let n, let nAtStart):
                        // 3. Pre-tokenize; the model on each word.
                        let piece = TextPiece(n, atStart: nAtStart)
                        let words = try preTokenizer?.preTokenize([piece]) ?? [piece]
                        for w in words { model.tokenize(w.scalars, into: &ids) }
                    }
                }
            }
        }
        return ids
    }

    // MARK: decode

    /// The text of `ids`. Throws a `LoomError` (kind `.invalidArgument`, path `ids[i]`) for an id
    /// no token has, or when a `Replace` decoder's regex exceeds its step budget.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) throws(LoomError) -> String {
        var tokens = [String]()
        tokens.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() {
            guard let t = token(id) else {
                throw LoomError(.invalidArgument, "ids[\(i)]", "no token has id \(id) (vocabulary size \(vocabularySize))")
            }
            if skipSpecialTokens && isSpecial(id) { continue }
            tokens.append(t)
        }
        if let d = decoder { return try d.decode(tokens) }
        var s = ""
        for (i, t) in tokens.enumerated() { s += (i > 0 ? " " : "") + t }
        return s
    }
}
