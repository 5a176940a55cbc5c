import LoomCore
import LoomText
import XCTest

/// Bad tokenizer.json files and bad ids: typed errors naming the problem and where.
final class BadInputTests: XCTestCase {
    static let minimalBPE = #"{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}"#

    func testMinimalBPEWorks() throws {
        let t = try Tokenizer(json: Self.minimalBPE)
        XCTAssertEqual(try t.encode("abab"), [2, 2])
        XCTAssertEqual(try t.decode([2, 0]), "ab a")  // no decoder: tokens joined by spaces
    }

    func testUnsupportedTypes() {
        expectTokenizerError(#"{"model":{"type":"CharLevel","vocab":{"a":0}}}"#, .invalidModel, path: "model.type", mentions: "CharLevel")
        expectTokenizerError(#"{"model":{"type":"Unigram","unk_id":3,"vocab":[["<unk>",0.0]]}}"#, .invalidModel, path: "model.unk_id", mentions: "3")
        expectTokenizerError(#"{"model":{"type":"Unigram","unk_id":0,"vocab":[["<unk>"]]}}"#, .invalidModel, path: "model.vocab[0]", mentions: "[piece, score]")
        expectTokenizerError(#"{"model":{"type":"Unigram","unk_id":0,"vocab":[["<unk>","high"]]}}"#, .invalidModel, path: "model.vocab[0][1]", mentions: "number")
        expectTokenizerError(#"{"model":{"type":"Mystery"}}"#, .invalidModel, path: "model.type", mentions: "Mystery")
        let m = #""model":{"type":"WordLevel","vocab":{"a":0}}"#
        expectTokenizerError(#"{"normalizer":{"type":"Precompiled","precompiled_charsmap":""},"# + m + "}", .invalidModel, path: "normalizer.type", mentions: "Precompiled")
        expectTokenizerError(#"{"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Whitespace"},{"type":"UnicodeScripts"}]},"# + m + "}",
                    .invalidModel, path: "pre_tokenizer.pretokenizers[1].type", mentions: "UnicodeScripts")
        expectTokenizerError(#"{"decoder":{"type":"CTC"},"# + m + "}", .invalidModel, path: "decoder.type", mentions: "CTC")
        expectTokenizerError(#"{"post_processor":{"type":"Magic"},"# + m + "}", .invalidModel, path: "post_processor.type", mentions: "Magic")
        expectTokenizerError(#"{"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a"},"behavior":"Isolated","invert":false},"# + m + "}",
                    .invalidModel, path: "pre_tokenizer.pattern.Regex", mentions: "')'")
        expectTokenizerError(#"{"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\p{Greek}"},"behavior":"Isolated","invert":false},"# + m + "}",
                    .invalidModel, path: "pre_tokenizer.pattern.Regex", mentions: "Greek")
    }

    func testMalformedJSON() {
        for text in ["", "{", #"{"model": }"#, "[1, 2", "{\"model\":{\"type\":\"BPE\"}} trailing", "\u{FEFF}{}"] {
            do {
                _ = try Tokenizer(json: text, source: "bad.json")
                XCTFail("no error for \(text)")
            } catch {
                XCTAssertEqual(error.kind, .invalidJSON, "\(error)")
                XCTAssertEqual(error.path, "bad.json")
                XCTAssertTrue(error.message.contains("line"), "\(error)")
            }
        }
    }

    func testMissingAndWrongFields() {
        expectTokenizerError("{}", .invalidModel, path: "model", mentions: "required")
        expectTokenizerError("[]", .invalidModel, path: "(root)", mentions: "object")
        expectTokenizerError(#"{"model":{"type":"BPE","merges":[]}}"#, .invalidModel, path: "model.vocab", mentions: "required")
        expectTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":0}}}"#, .invalidModel, path: "model.merges", mentions: "required")
        expectTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":"zero"},"merges":[]}}"#, .invalidModel, path: #"model.vocab["a"]"#, mentions: "integer")
        expectTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}"#, .invalidModel, path: #"model.vocab["a"]"#, mentions: "at least 0")
        expectTokenizerError(#"{"model":{"type":"WordLevel","vocab":{"a":0,"b":4000000000}}}"#, .invalidModel, path: #"model.vocab["b"]"#, mentions: "far beyond")
        expectTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a c"]}}"#, .invalidModel, path: "model.merges[0]", mentions: "\"c\"")
        expectTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}}"#, .invalidModel, path: "model.merges[0]", mentions: "\"ab\"")
        expectTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["ab"]}}"#, .invalidModel, path: "model.merges[0]", mentions: "left right")
        expectTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[["a"]]}}"#, .invalidModel, path: "model.merges[0]", mentions: "left right")
        expectTokenizerError(#"{"model":{"type":"BPE","dropout":0.1,"vocab":{"a":0},"merges":[]}}"#, .invalidModel, path: "model.dropout", mentions: "dropout")
        expectTokenizerError(#"{"added_tokens":[{"content":"x"}],"model":{"type":"WordLevel","vocab":{"a":0}}}"#, .invalidModel, path: "added_tokens[0].id", mentions: "required")
        expectTokenizerError(#"{"added_tokens":{},"model":{"type":"WordLevel","vocab":{"a":0}}}"#, .invalidModel, path: "added_tokens", mentions: "array")
        expectTokenizerError(#"{"normalizer":{"lowercase":true},"model":{"type":"WordLevel","vocab":{"a":0}}}"#, .invalidModel, path: "normalizer.type", mentions: "required")
        expectTokenizerError(#"{"pre_tokenizer":{"type":"Split","pattern":{"Glob":"*"},"behavior":"Isolated"},"model":{"type":"WordLevel","vocab":{"a":0}}}"#,
                    .invalidModel, path: "pre_tokenizer.pattern", mentions: "Regex")
        expectTokenizerError(#"{"pre_tokenizer":{"type":"Split","pattern":{"String":" "},"behavior":"Sideways"},"model":{"type":"WordLevel","vocab":{"a":0}}}"#,
                    .invalidModel, path: "pre_tokenizer.behavior", mentions: "Isolated")
        expectTokenizerError(#"{"pre_tokenizer":{"type":"Metaspace","replacement":"ab"},"model":{"type":"WordLevel","vocab":{"a":0}}}"#,
                    .invalidModel, path: "pre_tokenizer.replacement", mentions: "one character")
        expectTokenizerError(#"{"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[X]","type_id":0}}],"pair":[],"special_tokens":{}},"model":{"type":"WordLevel","vocab":{"a":0}}}"#,
                    .invalidModel, path: "post_processor.single[0].SpecialToken.id", mentions: "[X]")
    }

    func testDecodeIdsOutOfRange() throws {
        let t = try Tokenizer(json: Self.minimalBPE)
        for ids in [[3], [0, -1], [Int.max], [1, 2, 99]] {
            do {
                _ = try t.decode(ids)
                XCTFail("no error for \(ids)")
            } catch {
                XCTAssertEqual(error.kind, .invalidArgument)
                XCTAssertEqual(error.path, "ids[\(ids.count - 1)]")
                XCTAssertTrue(error.message.contains("\(ids.last!)"), "\(error)")
            }
        }
        let smol = try TextFixture.tokenizer(TextFixture.smollm2Path)
        XCTAssertThrowsError(try smol.decode([49152]))
        XCTAssertEqual(try smol.decode([49151]).isEmpty, false)
    }

    func testGGUFVocabularyErrors() {
        func expect(_ v: GGUFVocabulary, _ path: String, _ mentions: String, line: UInt = #line) {
            do {
                _ = try Tokenizer(gguf: v)
                XCTFail("no error", line: line)
            } catch {
                XCTAssertEqual(error.kind, .invalidModel, line: line)
                XCTAssertEqual(error.path, path, "\(error)", line: line)
                XCTAssertTrue(error.message.contains(mentions), "\(error)", line: line)
            }
        }
        let tokens = ["a", "b", "ab"]
        expect(GGUFVocabulary(model: "llama", tokens: tokens, merges: []), "tokenizer.ggml.model", "llama")
        expect(GGUFVocabulary(model: "gpt2", pre: "mystery", tokens: tokens, merges: []), "tokenizer.ggml.pre", "mystery")
        expect(GGUFVocabulary(model: "gpt2", tokens: tokens, tokenTypes: [1], merges: []), "tokenizer.ggml.token_type", "3 tokens")
        expect(GGUFVocabulary(model: "gpt2", tokens: tokens, merges: ["a b", "x y"]), "tokenizer.ggml.merges[1]", "\"x\"")
        expect(GGUFVocabulary(model: "gpt2", tokens: tokens, merges: ["ab"]), "tokenizer.ggml.merges[0]", "left right")
        expect(GGUFVocabulary(model: "gpt2", tokens: tokens, merges: [], bosTokenId: 7), "tokenizer.ggml.bos_token_id", "7")
    }
}
