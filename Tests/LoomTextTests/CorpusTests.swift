import Foundation
import LoomCore
import LoomText
import XCTest

/// The whole corpus of Fixtures/tokenizers/corpus.json (scripts/fixtures/tokenizer_fixtures.py)
/// against the Hugging Face `tokenizers` library's ids and decodes.
final class CorpusTests: XCTestCase {
    func check(_ key: String, _ tokenizer: Tokenizer, lossless: Bool) throws {
        let cases = try TextFixture.corpus()
        XCTAssertGreaterThanOrEqual(cases.count, 500)
        var failures = 0
        var roundTrips = 0
        for c in cases {
            let text = c["text"]!.stringValue!
            let expected = c[key]!
            let ids = try tokenizer.encode(text, addSpecialTokens: true)
            let plain = try tokenizer.encode(text, addSpecialTokens: false)
            var problems = [String]()
            if ids != ints(expected["ids"]) { problems.append("ids \(ids) != \(ints(expected["ids"]))") }
            if plain != ints(expected["ids_plain"]) { problems.append("plain ids \(plain) != \(ints(expected["ids_plain"]))") }
            let expectedIds = ints(expected["ids"])
            let d = try tokenizer.decode(expectedIds, skipSpecialTokens: false)
            if d != expected["decode"]!.stringValue! { problems.append("decode \"\(visible(d))\" != \"\(visible(expected["decode"]!.stringValue!))\"") }
            let ds = try tokenizer.decode(expectedIds, skipSpecialTokens: true)
            if ds != expected["decode_skip"]!.stringValue! { problems.append("decode(skip) \"\(visible(ds))\" != \"\(visible(expected["decode_skip"]!.stringValue!))\"") }
            if lossless {
                let back = try tokenizer.decode(plain)
                if back.unicodeScalars.elementsEqual(text.unicodeScalars) { roundTrips += 1 } else { problems.append("round trip \"\(visible(back))\"") }
            }
            if !problems.isEmpty {
                failures += 1
                if failures <= 10 { XCTFail("\(key) \"\(visible(text))\": " + problems.joined(separator: "; ")) }
            }
        }
        XCTAssertEqual(failures, 0, "\(key): \(failures) of \(cases.count) corpus strings differ")
        if lossless { XCTAssertEqual(roundTrips, cases.count, "\(key): decode(encode(s)) == s") }
    }

    func testMiniLMWordPiece() throws {
        try check("minilm", try TextFixture.tokenizer(TextFixture.minilmPath), lossless: false)
    }

    func testSmolLM2ByteLevelBPE() throws {
        try check("smollm2", try TextFixture.tokenizer(TextFixture.smollm2Path), lossless: true)
    }

    /// The tokenizer built from the GGUF vocabulary arrays (here: the arrays of the committed
    /// tokenizer.json, which the fixture script checked equal the GGUF's) encodes the corpus as
    /// the tokenizers library and as llama.cpp's tokenizer of the GGUF.
    func testSmolLM2FromGGUFVocabulary() throws {
        let json = try TextFixture.json(TextFixture.smollm2Path)
        let vocab = json["model"]!["vocab"]!.objectValue!
        var tokens = [String](repeating: "", count: vocab.count)
        for (k, v) in vocab.members { tokens[v.numberValue!.int!] = k }
        var types = [Int32](repeating: 1, count: tokens.count)
        for a in json["added_tokens"]!.arrayValue! where a["special"]!.boolValue! { types[a["id"]!.numberValue!.int!] = 3 }
        let merges = json["model"]!["merges"]!.arrayValue!.map { $0.stringValue! }
        let header = try TextFixture.json("Fixtures/tokenizers/corpus.json")["gguf"]!
        let t = try Tokenizer(gguf: GGUFVocabulary(
            model: "gpt2", pre: header["pre"]!.stringValue!, tokens: tokens, tokenTypes: types, merges: merges,
            bosTokenId: header["bos_token_id"]!.numberValue!.int!, eosTokenId: header["eos_token_id"]!.numberValue!.int!,
            addBosToken: header["add_bos_token"]!.boolValue!))
        XCTAssertEqual(t.bosTokenId, 1)
        XCTAssertEqual(t.eosTokenId, 2)
        var failures = 0
        for c in try TextFixture.corpus() {
            let text = c["text"]!.stringValue!
            let ids = try t.encode(text, addSpecialTokens: true)
            if ids != ints(c["llama_cpp_gguf"]) || ids != ints(c["smollm2"]!["ids_plain"]) {
                failures += 1
                if failures <= 5 { XCTFail("\"\(visible(text))\": \(ids) vs llama.cpp \(ints(c["llama_cpp_gguf"]))") }
            }
            let back = try t.decode(ids)
            if !back.unicodeScalars.elementsEqual(text.unicodeScalars) {
                failures += 1
                if failures <= 5 { XCTFail("round trip of \"\(visible(text))\"") }
            }
        }
        XCTAssertEqual(failures, 0)
    }

    /// Encoding speed on the corpus (reported, not asserted).
    func testSpeedReport() throws {
        for (name, path) in [("all-MiniLM-L6-v2", TextFixture.minilmPath), ("SmolLM2-135M", TextFixture.smollm2Path)] {
            let t = try TextFixture.tokenizer(path)
            let texts = try TextFixture.corpus().map { $0["text"]!.stringValue! }
            var tokens = 0
            var bytes = 0
            for s in texts { tokens += try t.encode(s, addSpecialTokens: false).count; bytes += s.utf8.count }  // warm-up
            // The best of 5 passes over the corpus (the machine is shared).
            var seconds = Double.infinity
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                for s in texts { _ = try t.encode(s, addSpecialTokens: false) }
                seconds = min(seconds, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            print("tokenizer speed \(name): \(tokens) tokens from \(bytes) bytes in \(String(format: "%.3f", seconds)) s: \(Int(Double(tokens) / seconds)) tokens/s, \(String(format: "%.2f", Double(bytes) / seconds / 1e6)) MB/s")
            XCTAssertGreaterThan(tokens, 0)
        }
    }
}
