import LoomCore

/// Reading a Hugging Face tokenizer.json. Every problem is a `LoomError` whose path names the
/// JSON field (`model.merges[12]`, `pre_tokenizer.pretokenizers[1].type`); an unsupported
/// component type is named in the message.
///
/// Every token id in the file (vocabulary values, `added_tokens[i].id`, the post-processor's
/// special token ids, `unk_id`) must be an integer in `0..<Tokenizer.idLimit` (below 2^31 − 1).
/// Vocabulary ids must also stay within a million of the vocabulary's size (a far larger id
/// would make the id table huge); added tokens and post-processor ids may lie beyond the
/// vocabulary, as the library allows. Each regex remembers its field (`pre_tokenizer.pattern.Regex`),
/// the path of the error when it exceeds its step budget at encode time.
extension Tokenizer {
    /// Parses tokenizer.json text. `source` (a file name) prefixes error paths of invalid JSON.
    public init(json text: String, source: String = "tokenizer.json") throws(LoomError) {
        let root: JSONValue
        do { root = try JSONValue.parse(text) } catch {
            throw LoomError(.invalidJSON, source, error.description)
        }
        try self.init(json: root)
    }

    /// Parses tokenizer.json from UTF-8 bytes.
    public init(jsonBytes bytes: [UInt8], source: String = "tokenizer.json") throws(LoomError) {
        let root: JSONValue
        do { root = try JSONValue.parse(utf8: bytes) } catch {
            throw LoomError(.invalidJSON, source, error.description)
        }
        try self.init(json: root)
    }

    public init(json root: JSONValue) throws(LoomError) {
        let r = try TokenizerJSON.object(root, "")
        let model = try TokenizerJSON.model(TokenizerJSON.required(r, "model", ""), "model")
        let normalizer = try TokenizerJSON.optional(r["normalizer"]).map { v throws(LoomError) in try TokenizerJSON.normalizer(v, "normalizer") }
        let pre = try TokenizerJSON.optional(r["pre_tokenizer"]).map { v throws(LoomError) in try TokenizerJSON.preTokenizer(v, "pre_tokenizer") }
        let post = try TokenizerJSON.optional(r["post_processor"]).map { v throws(LoomError) in try TokenizerJSON.postProcessor(v, "post_processor") }
        let dec = try TokenizerJSON.optional(r["decoder"]).map { v throws(LoomError) in try TokenizerJSON.decoder(v, "decoder") }
        var added = [AddedToken]()
        if let list = TokenizerJSON.optional(r["added_tokens"]) {
            guard let a = list.arrayValue else { throw LoomError(.invalidModel, "added_tokens", "expected an array, got \(list.kindName)") }
            for (i, t) in a.enumerated() { added.append(try TokenizerJSON.addedToken(t, "added_tokens[\(i)]")) }
        }
        try self.init(model: model, normalizer: normalizer, preTokenizer: pre, postProcessor: post, decoder: dec, addedTokens: added)
        if let t = TokenizerJSON.optional(r["truncation"]), let o = t.objectValue, let m = TokenizerJSON.optional(o["max_length"]) {
            truncationMaxLength = try TokenizerJSON.int(m, "truncation.max_length", min: 1)
        }
    }
}

enum TokenizerJSON {
    static func at(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func object(_ v: JSONValue, _ path: String) throws(LoomError) -> JSONObject {
        guard let o = v.objectValue else {
            throw LoomError(.invalidModel, path.isEmpty ? "(root)" : path, "expected an object, got \(v.kindName)")
        }
        return o
    }

    /// nil for a missing member or JSON null.
    static func optional(_ v: JSONValue?) -> JSONValue? {
        guard let v, !v.isNull else { return nil }
        return v
    }

    static func required(_ o: JSONObject, _ key: String, _ path: String) throws(LoomError) -> JSONValue {
        guard let v = optional(o[key]) else { throw LoomError(.invalidModel, at(path, key), "is required") }
        return v
    }

    static func string(_ o: JSONObject, _ key: String, _ path: String, _ def: String? = nil) throws(LoomError) -> String {
        guard let v = optional(o[key]) else {
            if let def { return def }
            throw LoomError(.invalidModel, at(path, key), "is required")
        }
        guard let s = v.stringValue else { throw LoomError(.invalidModel, at(path, key), "expected a string, got \(v.kindName)") }
        return s
    }

    static func optionalString(_ o: JSONObject, _ key: String, _ path: String) throws(LoomError) -> String? {
        guard let v = optional(o[key]) else { return nil }
        guard let s = v.stringValue else { throw LoomError(.invalidModel, at(path, key), "expected a string, got \(v.kindName)") }
        return s
    }

    static func bool(_ o: JSONObject, _ key: String, _ path: String, _ def: Bool) throws(LoomError) -> Bool {
        guard let v = optional(o[key]) else { return def }
        guard let b = v.boolValue else { throw LoomError(.invalidModel, at(path, key), "expected true or false, got \(v.kindName)") }
        return b
    }

    static func int(_ v: JSONValue, _ path: String, min: Int = 0) throws(LoomError) -> Int {
        guard let n = v.numberValue, let i = n.int else { throw LoomError(.invalidModel, path, "expected an integer, got \(v.kindName == "number" ? v.numberValue!.text : v.kindName)") }
        guard i >= min else { throw LoomError(.invalidModel, path, "must be at least \(min), got \(i)") }
        return i
    }

    /// A token id: an integer in `0..<Tokenizer.idLimit`.
    static func tokenId(_ v: JSONValue, _ path: String) throws(LoomError) -> Int {
        if let n = v.numberValue, let big = n.int64, big >= Int64(Tokenizer.idLimit) {
            throw LoomError(.invalidModel, path, "token id \(big) is too large (ids must be below \(Tokenizer.idLimit))")
        }
        return try int(v, path)
    }

    static func int(_ o: JSONObject, _ key: String, _ path: String, _ def: Int) throws(LoomError) -> Int {
        guard let v = optional(o[key]) else { return def }
        return try int(v, at(path, key))
    }

    static func array(_ o: JSONObject, _ key: String, _ path: String) throws(LoomError) -> [JSONValue] {
        let v = try required(o, key, path)
        guard let a = v.arrayValue else { throw LoomError(.invalidModel, at(path, key), "expected an array, got \(v.kindName)") }
        return a
    }

    static func type(_ o: JSONObject, _ path: String) throws(LoomError) -> String {
        try string(o, "type", path)
    }

    /// A single character field (Metaspace's replacement, Strip's content, CharDelimiterSplit's delimiter).
    static func character(_ o: JSONObject, _ key: String, _ path: String, _ def: String? = nil) throws(LoomError) -> UInt32 {
        let s = try string(o, key, path, def)
        let u = Array(s.unicodeScalars)
        guard u.count == 1 else { throw LoomError(.invalidModel, at(path, key), "expected one character, got \"\(s)\"") }
        return u[0].value
    }

    static func pattern(_ o: JSONObject, _ path: String) throws(LoomError) -> TextPattern {
        let p = try object(try required(o, "pattern", path), at(path, "pattern"))
        if let s = optional(p["String"]) {
            guard let t = s.stringValue else { throw LoomError(.invalidModel, at(path, "pattern.String"), "expected a string") }
            return .string(t.unicodeScalars.map { $0.value })
        }
        if let s = optional(p["Regex"]) {
            guard let t = s.stringValue else { throw LoomError(.invalidModel, at(path, "pattern.Regex"), "expected a string") }
            do { return .regex(try Regex(t, place: at(path, "pattern.Regex"))) } catch {
                throw LoomError(.invalidModel, at(path, "pattern.Regex"), error.message)
            }
        }
        throw LoomError(.invalidModel, at(path, "pattern"), "expected {\"String\": …} or {\"Regex\": …}")
    }

    static func behavior(_ o: JSONObject, _ path: String, _ def: SplitBehavior? = nil) throws(LoomError) -> SplitBehavior {
        guard let v = optional(o["behavior"]) else {
            if let def { return def }
            throw LoomError(.invalidModel, at(path, "behavior"), "is required")
        }
        guard let s = v.stringValue, let b = SplitBehavior(rawValue: s) else {
            throw LoomError(.invalidModel, at(path, "behavior"), "expected one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous")
        }
        return b
    }

    // MARK: model

    static func vocab(_ o: JSONObject, _ path: String) throws(LoomError) -> TokenTable {
        let v = try object(try required(o, "vocab", path), at(path, "vocab"))
        var t = TokenTable()
        var bytes = 0
        for (k, idV) in v.members {
            let p = at(path, "vocab") + "[\"\(k)\"]"
            let id = try int(idV, p)
            // Ids are dense in practice; a far larger one would make the id table huge.
            guard id < v.count + 1_000_000 else {
                throw LoomError(.invalidModel, p, "id \(id) is far beyond the vocabulary size \(v.count)")
            }
            guard id < Tokenizer.idLimit else {
                throw LoomError(.invalidModel, p, "token id \(id) is too large (ids must be below \(Tokenizer.idLimit))")
            }
            bytes += k.utf8.count
            guard bytes < TokenTable.maxBytes else {
                throw LoomError(.invalidModel, at(path, "vocab"), "the tokens' texts are too long in all (over \(TokenTable.maxBytes) bytes)")
            }
            t.insert(k, id: id)
        }
        return t
    }

    static func model(_ v: JSONValue, _ path: String) throws(LoomError) -> TokenizerModel {
        let o = try object(v, path)
        var kind = try optionalString(o, "type", path)
        if kind == nil {
            // Files written before the tag existed.
            if o["merges"] != nil { kind = "BPE" } else if o["max_input_chars_per_word"] != nil { kind = "WordPiece" }
            else if o["vocab"]?.arrayValue != nil { kind = "Unigram" } else { kind = "WordLevel" }
        }
        switch kind! {
        case "BPE":
            if let d = optional(o["dropout"]), let x = d.numberValue?.double, x > 0 {
                throw LoomError(.invalidModel, at(path, "dropout"), "BPE dropout is random and not supported (got \(x))")
            }
            let vocab = try vocab(o, path)
            var merges = [(String, String)]()
            let list = try array(o, "merges", path)
            merges.reserveCapacity(list.count)
            for (i, m) in list.enumerated() {
                if let s = m.stringValue {
                    // "a b": split at the first space (tokens never contain a space in this form).
                    let u = Array(s.utf8)
                    guard let sp = u.firstIndex(of: 0x20) else {
                        throw LoomError(.invalidModel, at(path, "merges[\(i)]"), "expected \"left right\", got \"\(s)\"")
                    }
                    merges.append((String(decoding: u[..<sp], as: UTF8.self), String(decoding: u[(sp + 1)...], as: UTF8.self)))
                } else if let pair = m.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
                    merges.append((a, b))
                } else {
                    throw LoomError(.invalidModel, at(path, "merges[\(i)]"), "expected \"left right\" or [left, right]")
                }
            }
            return .bpe(try BPEModel(
                vocab: vocab, merges: merges, unknownToken: try optionalString(o, "unk_token", path),
                continuingSubwordPrefix: try optionalString(o, "continuing_subword_prefix", path),
                endOfWordSuffix: try optionalString(o, "end_of_word_suffix", path),
                fuseUnknown: try bool(o, "fuse_unk", path, false), byteFallback: try bool(o, "byte_fallback", path, false),
                ignoreMerges: try bool(o, "ignore_merges", path, false), path: path))
        case "WordPiece":
            return .wordPiece(WordPieceModel(
                vocab: try vocab(o, path), unknownToken: try string(o, "unk_token", path, "[UNK]"),
                continuingSubwordPrefix: try string(o, "continuing_subword_prefix", path, "##"),
                maxInputCharsPerWord: try int(o, "max_input_chars_per_word", path, 100)))
        case "WordLevel":
            return .wordLevel(WordLevelModel(vocab: try vocab(o, path), unknownToken: try string(o, "unk_token", path, "[UNK]")))
        case "Unigram":
            var pieces = [(String, Double)]()
            let list = try array(o, "vocab", path)
            guard list.count < Tokenizer.idLimit else {
                throw LoomError(.invalidModel, at(path, "vocab"), "has \(list.count) pieces; ids must be below \(Tokenizer.idLimit)")
            }
            var bytes = 0
            for (i, item) in list.enumerated() {
                let p = at(path, "vocab") + "[\(i)]"
                guard let pair = item.arrayValue, pair.count == 2, let piece = pair[0].stringValue else {
                    throw LoomError(.invalidModel, p, "expected [piece, score]")
                }
                guard let score = pair[1].numberValue?.double, score.isFinite else {
                    throw LoomError(.invalidModel, p + "[1]", "expected a finite number")
                }
                bytes += piece.utf8.count
                guard bytes < TokenTable.maxBytes else {
                    throw LoomError(.invalidModel, at(path, "vocab"), "the pieces' texts are too long in all (over \(TokenTable.maxBytes) bytes)")
                }
                pieces.append((piece, score))
            }
            var unk: Int? = nil
            if let u = optional(o["unk_id"]) {
                let id = try tokenId(u, at(path, "unk_id"))
                guard id < pieces.count else { throw LoomError(.invalidModel, at(path, "unk_id"), "\(id) is not an index of the vocabulary (\(pieces.count) pieces)") }
                unk = id
            }
            return .unigram(UnigramModel(pieces: pieces, unknownId: unk, byteFallback: try bool(o, "byte_fallback", path, false)))
        default:
            throw LoomError(.invalidModel, at(path, "type"), "unsupported model type \"\(kind!)\" (supported: BPE, WordPiece, WordLevel, Unigram)")
        }
    }

    static func addedToken(_ v: JSONValue, _ path: String) throws(LoomError) -> AddedToken {
        let o = try object(v, path)
        guard let idV = optional(o["id"]) else { throw LoomError(.invalidModel, at(path, "id"), "is required") }
        let special = try bool(o, "special", path, false)
        return AddedToken(
            id: try tokenId(idV, at(path, "id")), content: try string(o, "content", path), special: special,
            singleWord: try bool(o, "single_word", path, false), lstrip: try bool(o, "lstrip", path, false),
            rstrip: try bool(o, "rstrip", path, false), normalized: try bool(o, "normalized", path, !special))
    }

    // MARK: components

    static func list(_ o: JSONObject, _ key: String, _ path: String) throws(LoomError) -> [(JSONValue, String)] {
        var out = [(JSONValue, String)]()
        for (i, v) in try array(o, key, path).enumerated() { out.append((v, at(path, key) + "[\(i)]")) }
        return out
    }

    static func normalizer(_ v: JSONValue, _ path: String) throws(LoomError) -> Normalizer {
        let o = try object(v, path)
        let t = try type(o, path)
        switch t {
        case "BertNormalizer":
            var strip: Bool? = nil
            if let s = optional(o["strip_accents"]) {
                guard let b = s.boolValue else { throw LoomError(.invalidModel, at(path, "strip_accents"), "expected true, false or null") }
                strip = b
            }
            return .bert(cleanText: try bool(o, "clean_text", path, true), handleChineseChars: try bool(o, "handle_chinese_chars", path, true),
                         stripAccents: strip, lowercase: try bool(o, "lowercase", path, true))
        case "Lowercase": return .lowercase
        case "NFD": return .nfd
        case "NFC": return .nfc
        case "NFKD": return .nfkd
        case "NFKC": return .nfkc
        case "StripAccents": return .stripAccents
        case "Strip": return .strip(left: try bool(o, "strip_left", path, true), right: try bool(o, "strip_right", path, true))
        case "Prepend": return .prepend(try string(o, "prepend", path))
        case "Replace": return .replace(try pattern(o, path), content: try string(o, "content", path))
        case "Sequence":
            var l = [Normalizer]()
            for (x, p) in try list(o, "normalizers", path) { l.append(try normalizer(x, p)) }
            return .sequence(l)
        default:
            throw LoomError(.invalidModel, at(path, "type"), "unsupported normalizer type \"\(t)\" (supported: BertNormalizer, Lowercase, NFD, NFC, NFKD, NFKC, StripAccents, Strip, Prepend, Replace, Sequence)")
        }
    }

    static func prependScheme(_ o: JSONObject, _ path: String) throws(LoomError) -> PrependScheme {
        if let s = try optionalString(o, "prepend_scheme", path) {
            guard let p = PrependScheme(rawValue: s) else {
                throw LoomError(.invalidModel, at(path, "prepend_scheme"), "expected always, first or never, got \"\(s)\"")
            }
            return p
        }
        // Older files: add_prefix_space.
        return try bool(o, "add_prefix_space", path, true) ? .always : .never
    }

    static func preTokenizer(_ v: JSONValue, _ path: String) throws(LoomError) -> PreTokenizer {
        let o = try object(v, path)
        let t = try type(o, path)
        switch t {
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try bool(o, "add_prefix_space", path, true), useRegex: try bool(o, "use_regex", path, true))
        case "Split":
            return .split(try pattern(o, path), behavior: try behavior(o, path), invert: try bool(o, "invert", path, false))
        case "Whitespace": return .whitespace
        case "WhitespaceSplit": return .whitespaceSplit
        case "BertPreTokenizer": return .bert
        case "Metaspace":
            return .metaspace(replacement: try character(o, "replacement", path, "\u{2581}"), prependScheme: try prependScheme(o, path),
                              split: try bool(o, "split", path, true))
        case "Digits": return .digits(individual: try bool(o, "individual_digits", path, false))
        case "Punctuation": return .punctuation(try behavior(o, path, .isolated))
        case "CharDelimiterSplit": return .charDelimiterSplit(try character(o, "delimiter", path))
        case "Sequence":
            var l = [PreTokenizer]()
            for (x, p) in try list(o, "pretokenizers", path) { l.append(try preTokenizer(x, p)) }
            return .sequence(l)
        default:
            throw LoomError(.invalidModel, at(path, "type"), "unsupported pre-tokenizer type \"\(t)\" (supported: ByteLevel, Split, Whitespace, WhitespaceSplit, BertPreTokenizer, Metaspace, Digits, Punctuation, CharDelimiterSplit, Sequence)")
        }
    }

    static func tokenAndId(_ o: JSONObject, _ key: String, _ path: String) throws(LoomError) -> Int {
        let a = try array(o, key, path)
        guard a.count == 2, a[0].stringValue != nil else { throw LoomError(.invalidModel, at(path, key), "expected [token, id]") }
        return try tokenId(a[1], at(path, key) + "[1]")
    }

    static func template(_ v: JSONValue, _ path: String, _ specials: [String: [Int]]) throws(LoomError) -> [PostProcessor.TemplatePiece] {
        guard let a = v.arrayValue else { throw LoomError(.invalidModel, path, "expected an array, got \(v.kindName)") }
        var out = [PostProcessor.TemplatePiece]()
        for (i, item) in a.enumerated() {
            let p = "\(path)[\(i)]"
            let o = try object(item, p)
            if let s = optional(o["Sequence"]) {
                let so = try object(s, p + ".Sequence")
                let id = try string(so, "id", p + ".Sequence")
                guard id == "A" || id == "B" else { throw LoomError(.invalidModel, p + ".Sequence.id", "expected \"A\" or \"B\", got \"\(id)\"") }
                out.append(.sequence(isB: id == "B"))
            } else if let s = optional(o["SpecialToken"]) {
                let so = try object(s, p + ".SpecialToken")
                let id = try string(so, "id", p + ".SpecialToken")
                guard let ids = specials[id] else {
                    throw LoomError(.invalidModel, p + ".SpecialToken.id", "\"\(id)\" is not in special_tokens")
                }
                out.append(.special(ids))
            } else {
                throw LoomError(.invalidModel, p, "expected {\"Sequence\": …} or {\"SpecialToken\": …}")
            }
        }
        return out
    }

    static func postProcessor(_ v: JSONValue, _ path: String) throws(LoomError) -> PostProcessor {
        let o = try object(v, path)
        let t = try type(o, path)
        switch t {
        case "TemplateProcessing":
            var specials = [String: [Int]]()
            if let s = optional(o["special_tokens"]) {
                let so = try object(s, at(path, "special_tokens"))
                for (k, tv) in so.members {
                    let p = at(path, "special_tokens") + ".\(k)"
                    let to = try object(tv, p)
                    var ids = [Int]()
                    for (i, x) in try array(to, "ids", p).enumerated() { ids.append(try tokenId(x, p + ".ids[\(i)]")) }
                    specials[k] = ids
                }
            }
            return .template(single: try template(try required(o, "single", path), at(path, "single"), specials),
                             pair: try template(try required(o, "pair", path), at(path, "pair"), specials))
        case "BertProcessing":
            return .bert(sep: try tokenAndId(o, "sep", path), cls: try tokenAndId(o, "cls", path))
        case "RobertaProcessing":
            return .roberta(sep: try tokenAndId(o, "sep", path), cls: try tokenAndId(o, "cls", path))
        case "ByteLevel": return .byteLevel
        case "Sequence":
            var l = [PostProcessor]()
            for (x, p) in try list(o, "processors", path) { l.append(try postProcessor(x, p)) }
            return .sequence(l)
        default:
            throw LoomError(.invalidModel, at(path, "type"), "unsupported post-processor type \"\(t)\" (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)")
        }
    }

    static func decoder(_ v: JSONValue, _ path: String) throws(LoomError) -> Decoder {
        let o = try object(v, path)
        let t = try type(o, path)
        switch t {
        case "ByteLevel": return .byteLevel
        case "WordPiece": return .wordPiece(prefix: try string(o, "prefix", path, "##"), cleanup: try bool(o, "cleanup", path, true))
        case "Metaspace":
            return .metaspace(replacement: try character(o, "replacement", path, "\u{2581}"), prependScheme: try prependScheme(o, path),
                              split: try bool(o, "split", path, true))
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip":
            return .strip(content: try character(o, "content", path), start: try int(o, "start", path, 0), stop: try int(o, "stop", path, 0))
        case "Replace": return .replace(try pattern(o, path), content: try string(o, "content", path))
        case "BPEDecoder": return .bpe(suffix: try string(o, "suffix", path, "</w>"))
        case "Sequence":
            var l = [Decoder]()
            for (x, p) in try list(o, "decoders", path) { l.append(try decoder(x, p)) }
            return .sequence(l)
        default:
            throw LoomError(.invalidModel, at(path, "type"), "unsupported decoder type \"\(t)\" (supported: ByteLevel, WordPiece, Metaspace, ByteFallback, Fuse, Strip, Replace, BPEDecoder, Sequence)")
        }
    }
}
