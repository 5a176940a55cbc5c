import LoomCore
import LoomText
import XCTest

final class RegexTests: XCTestCase {
    static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    func split(_ pattern: String, _ s: String) throws -> [String] {
        try Regex(pattern).matchedStrings(in: s)
    }

    func testGPT2Basics() throws {
        XCTAssertEqual(try split(Self.gpt2, "Hello world's  end!!\n\n  x"),
                       ["Hello", " world", "'s", " ", " end", "!!", "\n\n ", " x"])
        XCTAssertEqual(try split(Self.gpt2, "abc   "), ["abc", "   "])
        XCTAssertEqual(try split(Self.gpt2, "123abc"), ["123", "abc"])
    }

    func testLlama3() throws {
        XCTAssertEqual(try split(Self.llama3, "I'M 12345 ok\r\n\r\n  yes"),
                       ["I", "'M", " ", "123", "45", " ok", "\r\n\r\n", " ", " yes"])
    }

    func testClassesAndQuantifiers() throws {
        XCTAssertEqual(try split("a{2,3}", "aaaaaaa"), ["aaa", "aaa"])
        XCTAssertEqual(try split("a+?", "aaa"), ["a", "a", "a"])
        XCTAssertEqual(try split("(?:ab)+", "ababxab"), ["abab", "ab"])
        XCTAssertEqual(try split("[^a-c]+", "xxabcyy"), ["xx", "yy"])
        XCTAssertEqual(try split("(?i:hello)", "HeLLo hello"), ["HeLLo", "hello"])
        // onig's iteration: no empty match right where the previous match ended (Python's gives 4).
        XCTAssertEqual(try split("x*", "axxb"), ["", "xx", ""])
        XCTAssertEqual(try split("(?<=a)b", "abcb"), ["b"])
        XCTAssertEqual(try split("(a|ab)(c|bcd)", "abcd"), ["abcd"])  // backtracking, not POSIX longest
    }

    func testErrors() {
        for p in ["(", "a)", "[a", "\\1", "\\p{Foo}", "(?P=x)"] {
            XCTAssertThrowsError(try Regex(p), p) { e in
                XCTAssertEqual((e as? LoomError)?.kind, .invalidArgument, p)
            }
        }
    }
}
