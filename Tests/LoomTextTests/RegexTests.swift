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

    func testGroupsAndAssertions() throws {
        XCTAssertEqual(try split("(?>a+)b|a+", "aaab aaa"), ["aaab", "aaa"])
        XCTAssertEqual(try split("(?>a|ab)c", "abc ac"), ["ac"])              // atomic: no retry of ab
        XCTAssertEqual(try split("a++a", "aaaa"), [])                          // possessive gives nothing back
        XCTAssertEqual(try split("a*+b", "aab"), ["aab"])
        XCTAssertEqual(try split("\\bfoo\\b", "foo food afoo foo"), ["foo", "foo"])
        XCTAssertEqual(try split("\\Bo\\B", "foo oo"), ["o"])
        XCTAssertEqual(try split("^a|b$", "ab\nab"), ["a", "b", "a", "b"])  // line anchors
        XCTAssertEqual(try split("\\Aa|b\\z", "ab\nab"), ["a", "b"])
        XCTAssertEqual(try split("x(?=y)", "xy xz"), ["x"])
        XCTAssertEqual(try split("x(?!y)", "xy xz"), ["x"])
        XCTAssertEqual(try split("(?<!a)b", "ab cb b"), ["b", "b"])
        XCTAssertEqual(try split("(?<=ab|c)d", "abd cd bd"), ["d", "d"])
        XCTAssertEqual(try split("(?<name>ab)+", "ababx"), ["abab"])
        XCTAssertEqual(try split("(a|)+b", "aab b"), ["aab", "b"])            // empty loop bodies end
    }

    func testClassesAndEscapes() throws {
        XCTAssertEqual(try split("[[:x]]+", "x:[]"), ["x:"])
        XCTAssertEqual(try split("[a-c[x-z]]+", "abyzd"), ["abyz"])
        XCTAssertEqual(try split("[^[^a]]+", "aab"), ["aa"])
        XCTAssertEqual(try split("[\\p{Lu}\\d]+", "ABc12d"), ["AB", "12"])
        XCTAssertEqual(try split("\\P{L}+", "ab12!c"), ["12!"])
        XCTAssertEqual(try split("\\p{^N}+", "ab12!c"), ["ab", "!c"])
        XCTAssertEqual(try split("\\p{Letter}+", "héllo wörld"), ["héllo", "wörld"])
        XCTAssertEqual(try split("\\x41\\x{1F600}\\u00e9", "A😀é"), ["A😀é"])
        XCTAssertEqual(try split("[\\x{4E00}-\\x{9FFF}]+", "中文abc日本"), ["中文", "日本"])
        XCTAssertEqual(try split("\\d+", "12٣٤x"), ["12٣٤"])                // \d is Nd
        XCTAssertEqual(try split("\\w+", "foo_bar-baz é1"), ["foo_bar", "baz", "é1"])
        XCTAssertEqual(try split("\\s+", "a\u{00A0}\u{3000}b\u{200B}c"), ["\u{00A0}\u{3000}"])  // ZWSP is not White_Space
        XCTAssertEqual(try split("a{,2}", "aaa"), ["aa", "a"])
        XCTAssertEqual(try split("a{x", "a{x"), ["a{x"])                      // not a quantifier: literal
        XCTAssertEqual(try split("a{2}?", "aaaa"), ["aa", "aa"])
        XCTAssertEqual(try split("[-a]+|[a-]+", "-a-"), ["-a-"])
        XCTAssertEqual(try split(".+", "ab\ncd"), ["ab", "cd"])
    }

    func testCaseInsensitive() throws {
        XCTAssertEqual(try split("(?i:'s|'ll)", "'S 'Ll 'ſ 's"), ["'S", "'Ll", "'ſ", "'s"])
        XCTAssertEqual(try split("(?i)[a-c]+", "ABCabcD"), ["ABCabc"])
        XCTAssertEqual(try split("(?i:[^a])+", "xAay"), ["x", "y"])
        XCTAssertEqual(try split("a(?i)b|c", "aB C c aC"), ["aB", "aC"])     // Oniguruma: a(?i:b|c)
        XCTAssertEqual(try split("(?i:k)", "kK\u{212A}"), ["k", "K", "\u{212A}"])
        XCTAssertEqual(try split("(?i:σ)+", "ΣσςX"), ["Σσς"])
    }

    func testLongInputs() throws {
        // No recursion per character: long runs match without exhausting the stack.
        let s = String(repeating: "a", count: 200_000) + " " + String(repeating: " ", count: 100_000) + "b"
        let r = try Regex(Self.gpt2).matchedStrings(in: s)
        XCTAssertEqual(r.map { $0.unicodeScalars.count }, [200_000, 100_000, 2])
        let alt = try Regex("(?:ab|a)*c").matchedStrings(in: String(repeating: "ab", count: 50_000) + "c")
        XCTAssertEqual(alt.first?.utf8.count, 100_001)
    }

    func testErrors() {
        for p in ["(", "a)", "[a", "\\1", "\\p{Foo}", "(?P=x)", "*a", "a|+", "[z-a]", "[[:alpha:]]", "[a&&b]",
                  "\\p{Greek}", "(?m:a)", "\\q", "\\x{110000}", "\\xZZ", "(?<=a", "\\", "[\\d-z]"] {
            XCTAssertThrowsError(try Regex(p), p) { e in
                XCTAssertEqual((e as? LoomError)?.kind, .invalidArgument, p)
            }
        }
    }
}
