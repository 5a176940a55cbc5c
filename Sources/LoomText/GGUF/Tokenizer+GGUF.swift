import LoomCore

/// The vocabulary a GGUF file embeds (`tokenizer.ggml.*`), as plain arrays: the GGUF reader
/// fills this in, the tokenizer is built from it.
public struct GGUFVocabulary: Sendable {
    /// `tokenizer.ggml.model`: only "gpt2" (byte-level BPE) is supported.
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer name (llama.cpp's), e.g. "smollm", "llama-bpe".
    public var pre: String?
    /// `tokenizer.ggml.tokens`, by id.
    public var tokens: [String]
    /// `tokenizer.ggml.token_type` (1 normal, 2 unknown, 3 control, 4 user defined, 5 unused,
    /// 6 byte); empty when absent.
    public var tokenTypes: [Int32]
    /// `tokenizer.ggml.merges`, "left right", in rank order.
    public var merges: [String]
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    /// `tokenizer.ggml.add_bos_token` / `add_eos_token`: whether encode(addSpecialTokens:) adds them.
    public var addBosToken: Bool
    public var addEosToken: Bool

    public init(model: String, pre: String? = nil, tokens: [String], tokenTypes: [Int32] = [], merges: [String],
                bosTokenId: Int? = nil, eosTokenId: Int? = nil, addBosToken: Bool = false, addEosToken: Bool = false) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.addBosToken = addBosToken
        self.addEosToken = addEosToken
    }
}

extension Tokenizer {
    /// The pre-tokenizers of llama.cpp's `tokenizer.ggml.pre` names, as tokenizer.json
    /// components (nil: unknown name).
    public static func ggufPreTokenizer(_ name: String?) -> PreTokenizer? {
        let byteLevel = PreTokenizer.byteLevel(addPrefixSpace: false, useRegex: true)
        func split(_ pattern: String) -> PreTokenizer {
            .sequence([.split(.regex(try! Regex(pattern, place: "tokenizer.ggml.pre")), behavior: .isolated, invert: false),
                       .byteLevel(addPrefixSpace: false, useRegex: false)])
        }
        switch name {
        case nil, "default", "gpt2", "gpt-2": return byteLevel
        case "smollm", "starcoder": return .sequence([.digits(individual: true), byteLevel])
        case "llama3", "llama-v3", "llama-bpe":
            return split(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#)
        case "qwen2":
            return split(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#)
        default: return nil
        }
    }

    /// A byte-level BPE tokenizer from a GGUF vocabulary. Control tokens (type 3) become special
    /// added tokens and user-defined ones (type 4) plain added tokens, both matched in the raw
    /// text; the pre-tokenizer follows `pre` (see `ggufPreTokenizer`); the decoder is ByteLevel;
    /// `encode(addSpecialTokens: true)` adds BOS/EOS as `addBosToken`/`addEosToken` say.
    public init(gguf v: GGUFVocabulary) throws(LoomError) {
        guard v.model == "gpt2" else {
            throw LoomError(.invalidModel, "tokenizer.ggml.model", "unsupported tokenizer model \"\(v.model)\" (supported: gpt2)")
        }
        guard let pre = Tokenizer.ggufPreTokenizer(v.pre) else {
            throw LoomError(.invalidModel, "tokenizer.ggml.pre", "unsupported pre-tokenizer \"\(v.pre ?? "")\" (supported: default, gpt2, smollm, starcoder, llama3, llama-bpe, qwen2)")
        }
        guard v.tokenTypes.isEmpty || v.tokenTypes.count == v.tokens.count else {
            throw LoomError(.invalidModel, "tokenizer.ggml.token_type", "has \(v.tokenTypes.count) entries for \(v.tokens.count) tokens")
        }
        for (key, id) in [("tokenizer.ggml.bos_token_id", v.bosTokenId), ("tokenizer.ggml.eos_token_id", v.eosTokenId)] {
            if let id, id < 0 || id >= v.tokens.count {
                throw LoomError(.invalidModel, key, "id \(id) is out of range (\(v.tokens.count) tokens)")
            }
        }
        guard v.tokens.count < Tokenizer.idLimit else {
            throw LoomError(.invalidModel, "tokenizer.ggml.tokens", "has \(v.tokens.count) tokens; ids must be below \(Tokenizer.idLimit)")
        }
        var table = TokenTable()
        var bytes = 0
        for (i, t) in v.tokens.enumerated() {
            bytes += t.utf8.count
            guard bytes < TokenTable.maxBytes else {
                throw LoomError(.invalidModel, "tokenizer.ggml.tokens", "the tokens' texts are too long in all (over \(TokenTable.maxBytes) bytes)")
            }
            table.insert(t, id: i)
        }
        var merges = [(String, String)]()
        merges.reserveCapacity(v.merges.count)
        for (i, m) in v.merges.enumerated() {
            let u = Array(m.utf8)
            guard let sp = u.firstIndex(of: 0x20) else {
                throw LoomError(.invalidModel, "tokenizer.ggml.merges[\(i)]", "expected \"left right\", got \"\(m)\"")
            }
            merges.append((String(decoding: u[..<sp], as: UTF8.self), String(decoding: u[(sp + 1)...], as: UTF8.self)))
        }
        let bpe = try BPEModel(vocab: table, merges: merges, path: "tokenizer.ggml")
        var added = [AddedToken]()
        for (i, type) in v.tokenTypes.enumerated() where type == 3 || type == 4 {
            added.append(AddedToken(id: i, content: v.tokens[i], special: type == 3, normalized: false))
        }
        var single = [PostProcessor.TemplatePiece]()
        if v.addBosToken, let b = v.bosTokenId { single.append(.special([b])) }
        single.append(.sequence(isB: false))
        if v.addEosToken, let e = v.eosTokenId { single.append(.special([e])) }
        var pair = single
        if v.addBosToken, let b = v.bosTokenId { pair.append(.special([b])) }
        pair.append(.sequence(isB: true))
        if v.addEosToken, let e = v.eosTokenId { pair.append(.special([e])) }
        try self.init(model: .bpe(bpe), normalizer: nil, preTokenizer: pre,
                  postProcessor: .template(single: single, pair: pair), decoder: .byteLevel, addedTokens: added)
        bosTokenId = v.bosTokenId
        eosTokenId = v.eosTokenId
    }
}

extension GGUFVocabulary {
    /// The vocabulary embedded in a GGUF file (`tokenizer.ggml.*`).
    public init(gguf g: GGUF) throws(LoomError) {
        let m = g.metadata
        func key(_ k: String) -> String { g.name + ": " + k }
        guard let model = m["tokenizer.ggml.model"]?.stringValue else {
            throw LoomError(.invalidModel, key("tokenizer.ggml.model"), "is missing: the file has no tokenizer")
        }
        guard let tokens = m["tokenizer.ggml.tokens"]?.arrayValue?.strings else {
            throw LoomError(.invalidModel, key("tokenizer.ggml.tokens"), "is missing or not an array of strings")
        }
        let merges = m["tokenizer.ggml.merges"]?.arrayValue?.strings ?? []
        let types = (m["tokenizer.ggml.token_type"]?.arrayValue?.ints ?? []).map { Int32(truncatingIfNeeded: $0) }
        self.init(model: model, pre: m["tokenizer.ggml.pre"]?.stringValue, tokens: tokens, tokenTypes: types, merges: merges,
                  bosTokenId: m["tokenizer.ggml.bos_token_id"]?.intValue, eosTokenId: m["tokenizer.ggml.eos_token_id"]?.intValue,
                  addBosToken: m["tokenizer.ggml.add_bos_token"]?.boolValue ?? false,
                  addEosToken: m["tokenizer.ggml.add_eos_token"]?.boolValue ?? false)
    }
}
