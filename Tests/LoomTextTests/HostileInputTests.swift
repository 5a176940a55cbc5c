import LoomCore
import LoomText
import XCTest

/// Issue 16 (hostile input) for tokenizers: token ids a 32-bit integer cannot hold are refused at
/// load with the field named, and a regex that backtracks catastrophically is stopped by its step
/// budget with a typed error naming the pattern's field, while real patterns never reach it.
final class HostileInputTests: XCTestCase {
    static let wordLevel = #""model":{"type":"WordLevel","vocab":{"a":0,"b":1,"[UNK]":2},"unk_token":"[UNK]"}"#

    // MARK: token ids

    func testIdsBeyondInt32AreRefusedAtLoad() {
        let big = "9223372036854775807"  // 2^63 − 1
        expectTokenizerError(#"{"added_tokens":[{"id":"# + big + #","content":"<x>","special":true}],"# + Self.wordLevel + "}",
                        .invalidModel, path: "added_tokens[0].id", mentions: "too large")
        expectTokenizerError(#"{"added_tokens":[{"id":3,"content":"<y>"},{"id":2147483647,"content":"<x>"}],"# + Self.wordLevel + "}",
                        .invalidModel, path: "added_tokens[1].id", mentions: "2147483647")
        expectTokenizerError(#"{"added_tokens":[{"id":-1,"content":"<x>"}],"# + Self.wordLevel + "}",
                        .invalidModel, path: "added_tokens[0].id", mentions: "at least 0")
        expectTokenizerError(#"{"post_processor":{"type":"BertProcessing","sep":["[SEP]",1],"cls":["[CLS]",2147483648]},"# + Self.wordLevel + "}",
                        .invalidModel, path: "post_processor.cls[1]", mentions: "too large")
        expectTokenizerError(#"{"post_processor":{"type":"RobertaProcessing","sep":["</s>",2147483648],"cls":["<s>",0]},"# + Self.wordLevel + "}",
                        .invalidModel, path: "post_processor.sep[1]", mentions: "too large")
        expectTokenizerError(#"{"post_processor":{"type":"Sequence","processors":[{"type":"ByteLevel"},{"type":"BertProcessing","sep":["[SEP]",-5],"cls":["[CLS]",0]}]},"# + Self.wordLevel + "}",
                        .invalidModel, path: "post_processor.processors[1].sep[1]", mentions: "at least 0")
        expectTokenizerError(#"{"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"[CLS]":{"id":"[CLS]","ids":[0,4294967296],"tokens":["[CLS]","[CLS]"]}}},"# + Self.wordLevel + "}",
                        .invalidModel, path: "post_processor.special_tokens.[CLS].ids[1]", mentions: "too large")
        expectTokenizerError(#"{"model":{"type":"Unigram","unk_id":1099511627776,"vocab":[["<unk>",0.0],["a",-1.0]]}}"#,
                        .invalidModel, path: "model.unk_id", mentions: "too large")
        expectTokenizerError(#"{"model":{"type":"WordLevel","vocab":{"a":0,"b":9223372036854775807}}}"#,
                        .invalidModel, path: #"model.vocab["b"]"#, mentions: "far beyond")
        expectTokenizerError(#"{"truncation":{"max_length":0},"# + Self.wordLevel + "}",
                        .invalidModel, path: "truncation.max_length", mentions: "at least 1")
    }

    /// The largest id allowed, 2^31 − 2, loads; every id encode gives and the vocabulary size
    /// then fit an Int32 (what the C ABI and the embedding layers convert them to).
    func testLargestIdsFitInt32() throws {
        let json = #"{"added_tokens":[{"id":2147483646,"content":"<big>","special":true}],"#
            + #""post_processor":{"type":"BertProcessing","sep":["[SEP]",2147483645],"cls":["[CLS]",2147483646]},"#
            + Self.wordLevel + "}"
        let t = try Tokenizer(json: json)
        let ids = try t.encode("a<big>b")
        XCTAssertEqual(ids, [2147483646, 0, 2147483646, 1, 2147483645])
        for id in ids { XCTAssertNotNil(Int32(exactly: id), "\(id)") }
        XCTAssertEqual(t.vocabularySize, Int(Int32.max))
        XCTAssertNotNil(Int32(exactly: t.vocabularySize))
        XCTAssertEqual(try t.decode([2147483646, 0]), "<big> a")
    }

    /// Tokenizers built in code get the same check (kind .invalidArgument: a caller's value).
    func testIdsBeyondInt32AreRefusedInCode() throws {
        let vocab = { () -> TokenTable in var v = TokenTable(); v.insert("a", id: 0); return v }()
        let model = TokenizerModel.wordLevel(WordLevelModel(vocab: vocab))
        for id in [Int.max, Int(Int32.max), -1] {
            XCTAssertThrowsError(try Tokenizer(model: model, addedTokens: [AddedToken(id: 1, content: "<a>", special: true),
                                                                               AddedToken(id: id, content: "<x>", special: true)])) { e in
                XCTAssertEqual((e as? LoomError)?.kind, .invalidArgument, "\(e)")
                XCTAssertEqual((e as? LoomError)?.path, "addedTokens[1].id", "\(e)")
            }
        }
        XCTAssertThrowsError(try Tokenizer(model: model, postProcessor: .bert(sep: 1 << 31, cls: 0))) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidArgument, "\(e)")
            XCTAssertEqual((e as? LoomError)?.path, "postProcessor", "\(e)")
        }
        XCTAssertThrowsError(try Tokenizer(model: model, postProcessor: .template(single: [.special([0, Int.max])], pair: []))) { e in
            XCTAssertEqual((e as? LoomError)?.path, "postProcessor", "\(e)")
        }
        var t = try Tokenizer(model: model)
        XCTAssertThrowsError(try t.setAddedTokens([AddedToken(id: Int.max, content: "<x>", special: false)])) { e in
            XCTAssertEqual((e as? LoomError)?.path, "addedTokens[0].id", "\(e)")
        }
    }

    func testGGUFVocabularyIdsAreChecked() {
        let tokens = ["a", "b", "ab"]
        for (v, path) in [(GGUFVocabulary(model: "gpt2", tokens: tokens, merges: [], bosTokenId: Int.max), "tokenizer.ggml.bos_token_id"),
                          (GGUFVocabulary(model: "gpt2", tokens: tokens, merges: [], eosTokenId: -1), "tokenizer.ggml.eos_token_id")] {
            XCTAssertThrowsError(try Tokenizer(gguf: v)) { e in
                XCTAssertEqual((e as? LoomError)?.kind, .invalidModel, "\(e)")
                XCTAssertEqual((e as? LoomError)?.path, path, "\(e)")
            }
        }
    }

    // MARK: catastrophic backtracking

    /// The fuzzer's patterns, each on a 34-character text where it backtracks exponentially
    /// (minutes to hours without the budget).
    static let catastrophic: [(pattern: String, text: String)] = [
        (#"(a+)+$"#, String(repeating: "a", count: 33) + "!"),
        (#"(\w+\s?)*$"#, String(repeating: "a", count: 33) + "!"),
        (#"(.*a){25}"#, String(repeating: "a", count: 33) + "!"),
        (#"(?:a|aa)+$"#, String(repeating: "a", count: 33) + "!"),
        (#"(\s*\S+\s*)*x"#, String(repeating: "ab ", count: 11) + "!"),
    ]

    /// A JSON string literal of `s` (escapes backslashes and quotes).
    static func literal(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    func expectBudgetError(_ path: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            guard let e = e as? LoomError else { return XCTFail("\(e) is not a LoomError", file: file, line: line) }
            XCTAssertEqual(e.kind, .invalidModel, "\(e)", file: file, line: line)
            XCTAssertEqual(e.path, path, "\(e)", file: file, line: line)
            XCTAssertTrue(e.message.contains("backtracking steps"), "\(e)", file: file, line: line)
        }
    }

    func testCatastrophicRegexIsStopped() {
        for (pattern, text) in Self.catastrophic {
            expectBudgetError("regex") { _ = try Regex(pattern).matches(in: text) }
            expectBudgetError("here") { _ = try Regex(pattern, place: "here").firstMatch(in: text.unicodeScalars.map { $0.value }) }
        }
    }

    func testCatastrophicSplitPreTokenizer() throws {
        for (pattern, text) in Self.catastrophic {
            let p = Self.literal(pattern)
            let split = #"{"type":"Split","pattern":{"Regex":"# + p + #"},"behavior":"Isolated","invert":false}"#
            let t = try Tokenizer(json: #"{"pre_tokenizer":"# + split + "," + Self.wordLevel + "}")
            expectBudgetError("pre_tokenizer.pattern.Regex") { _ = try t.encode(text) }
            expectBudgetError("pre_tokenizer.pattern.Regex") { _ = try t.encode("a b", pair: text) }
            let nested = try Tokenizer(json: #"{"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":false},"# + split + "]}," + Self.wordLevel + "}")
            expectBudgetError("pre_tokenizer.pretokenizers[1].pattern.Regex") { _ = try nested.encode(text) }
            // Inputs where the same pattern is quick still encode.
            XCTAssertEqual(try t.encode("ab"), [2])
        }
    }

    func testCatastrophicReplaceNormalizerAndDecoder() throws {
        for (pattern, text) in Self.catastrophic {
            let replace = #"{"type":"Replace","pattern":{"Regex":"# + Self.literal(pattern) + #"},"content":"b"}"#
            let t = try Tokenizer(json: #"{"normalizer":"# + replace + "," + Self.wordLevel + "}")
            expectBudgetError("normalizer.pattern.Regex") { _ = try t.encode(text) }
            let seq = try Tokenizer(json: #"{"normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},"# + replace + "]}," + Self.wordLevel + "}")
            expectBudgetError("normalizer.normalizers[1].pattern.Regex") { _ = try seq.encode(text) }
            // An added token normalized by the pattern at load time.
            let added = #"{"added_tokens":[{"id":3,"content":"# + Self.literal(text) + #","normalized":true}],"normalizer":"# + replace + "," + Self.wordLevel + "}"
            expectBudgetError("normalizer.pattern.Regex") { _ = try Tokenizer(json: added) }
            // A Replace decoder runs the pattern on each token's text.
            let vocab = #""model":{"type":"WordLevel","vocab":{"a":0,"# + Self.literal(text) + #":1},"unk_token":"a"}"#
            let d = try Tokenizer(json: #"{"decoder":"# + replace + "," + vocab + "}")
            expectBudgetError("decoder.pattern.Regex") { _ = try d.decode([0, 1]) }
        }
    }

    // MARK: real patterns stay within the budget

    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Long ordinary and degenerate texts (100k+ scalars each).
    static func longTexts() -> [(String, String)] {
        let prose = "The quick brown fox, jumping over 12,345 lazy dogs — isn't it?\n  Ça va très bien; 東京は晴れ。 \t\r\n"
        var mixed = ""
        while mixed.unicodeScalars.count < 100_000 { mixed += prose }
        return [
            ("prose", mixed),
            ("letters", String(repeating: "a", count: 100_000)),
            ("spaces", String(repeating: " ", count: 100_000) + "x"),
            ("spaces then newline", String(repeating: " ", count: 100_000) + "\n"),
            ("tabs and newlines", String(repeating: " \t\n", count: 40_000)),
            ("digits", String(repeating: "7", count: 100_000)),
            ("punctuation", String(repeating: "!?", count: 50_000)),
            ("contractions", String(repeating: "'s'", count: 40_000)),
            ("alternating", String(repeating: "a ", count: 60_000)),
        ]
    }

    func testLongOrdinaryInputsStayWithinBudget() throws {
        for pattern in [Self.gpt2, Self.llama3, Self.qwen2] {
            let r = try Regex(pattern)
            for (name, text) in Self.longTexts() {
                let scalars = text.unicodeScalars.map { $0.value }
                let ms = try r.matches(in: scalars)
                // The pieces tile the text.
                XCTAssertEqual(ms.first?.lowerBound, 0, name)
                XCTAssertEqual(ms.last?.upperBound, scalars.count, name)
                for (x, y) in zip(ms, ms.dropFirst()) where x.upperBound != y.lowerBound {
                    XCTFail("\(name): gap between \(x) and \(y)"); break
                }
            }
        }
        // A look-behind scans back only as far as its body reaches.
        let behind = try Regex(#"(?<=\s)\p{L}+|(?<!\p{L})\p{N}+"#)
        let text = String(repeating: "word 12 ", count: 15_000)
        XCTAssertEqual(try behind.matches(in: text).count, 29_999)  // not the first word: no space before it
    }

    /// Look-behind only tries the start positions its body can reach: same results.
    func testLookBehindResults() throws {
        XCTAssertEqual(try Regex(#"(?<=ab|c)x"#).matchedStrings(in: "abx cx bx x"), ["x", "x"])
        XCTAssertEqual(try Regex(#"(?<=a{2,3})x\d?"#).matchedStrings(in: "ax1 aax2 aaax3 aaaax4"), ["x2", "x3", "x4"])
        XCTAssertEqual(try Regex(#"(?<!\d{1,2})x"#).matchedStrings(in: "1x 12x x"), ["x"])
        XCTAssertEqual(try Regex(#"(?<=a.*)x"#).matchedStrings(in: "b x a x"), ["x"])
        XCTAssertEqual(try Regex(#"(?<=^|\s)\w+"#).matchedStrings(in: "hi there"), ["hi", "there"])
        XCTAssertEqual(try Regex(#"(?<=(?:ab)+)c"#).matchedStrings(in: "ababc bc"), ["c"])
    }

    func testLongInputThroughSplitTokenizer() throws {
        let split = #"{"type":"Split","pattern":{"Regex":"# + Self.literal(Self.llama3) + #"},"behavior":"Isolated","invert":false}"#
        let t = try Tokenizer(json: #"{"normalizer":{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "},"pre_tokenizer":"# + split
                                  + #","model":{"type":"WordLevel","vocab":{"a":0,"[UNK]":1},"unk_token":"[UNK]"}}"#)
        for (name, text) in Self.longTexts() {
            XCTAssertFalse(try t.encode(text).isEmpty, name)
        }
        let smol = try TextFixture.tokenizer(TextFixture.smollm2Path)
        let text = Self.longTexts()[0].1
        let ids = try smol.encode(text, addSpecialTokens: false)
        XCTAssertEqual(try smol.decode(ids), text)
    }
}
