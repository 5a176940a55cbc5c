import Foundation
import LoomCore
import LoomText
import XCTest

enum TextFixture {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    static func json(_ relative: String) throws -> JSONValue {
        try JSONValue.parse(text(relative))
    }

    static let minilmPath = "Fixtures/tokenizers/all-MiniLM-L6-v2.tokenizer.json"
    static let smollm2Path = "Fixtures/tokenizers/SmolLM2-135M-Instruct.tokenizer.json"

    nonisolated(unsafe) private static var cache: [String: Tokenizer] = [:]
    private static let lock = NSLock()

    static func tokenizer(_ relative: String) throws -> Tokenizer {
        lock.lock(); defer { lock.unlock() }
        if let t = cache[relative] { return t }
        let t = try Tokenizer(json: text(relative), source: relative)
        cache[relative] = t
        return t
    }

    nonisolated(unsafe) private static var corpusCache: [JSONValue]? = nil

    static func corpus() throws -> [JSONValue] {
        lock.lock(); defer { lock.unlock() }
        if let c = corpusCache { return c }
        let c = try json("Fixtures/tokenizers/corpus.json")["cases"]!.arrayValue!
        corpusCache = c
        return c
    }
}

func ints(_ v: JSONValue?) -> [Int] { v!.arrayValue!.map { $0.numberValue!.int! } }

/// A readable form of a string for failure messages (escapes non-ASCII and controls).
func visible(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        if u.value >= 0x20 && u.value < 0x7F { out.unicodeScalars.append(u) } else { out += "\\u{\(String(u.value, radix: 16))}" }
    }
    return out
}

/// Asserts that loading tokenizer.json text `json` fails with `kind` at `path`, with a message
/// that mentions `mentions`.
func expectTokenizerError(_ json: String, _ kind: LoomError.Kind, path: String, mentions: String,
                          file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try Tokenizer(json: json)
        XCTFail("no error for \(json)", file: file, line: line)
    } catch {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        XCTAssertEqual(error.path, path, "\(error)", file: file, line: line)
        XCTAssertTrue(error.message.contains(mentions), "\(error) should mention \(mentions)", file: file, line: line)
    }
}
