import LoomCore
import LoomText
import XCTest

/// Split patterns on tricky inputs against Oniguruma as the tokenizers library runs it
/// (Fixtures/tokenizers/regex.json). The same cases record Python's `regex` module, which differs
/// in a few places (its `\w` includes ZWJ, `(?i)` mid-pattern, `^`/`$`, empty matches, `a**`):
/// the engine follows Oniguruma.
final class RegexFixtureTests: XCTestCase {
    func testAgainstOniguruma() throws {
        let cases = try TextFixture.json("Fixtures/tokenizers/regex.json")["cases"]!.arrayValue!
        XCTAssertGreaterThanOrEqual(cases.count, 100)
        var differFromPython = 0
        for c in cases {
            let pattern = c["regex"]!.stringValue!
            let text = c["text"]!.stringValue!
            let r = try Regex(pattern)
            // The library drops empty pieces.
            let ours = try r.matchedStrings(in: text).filter { !$0.isEmpty }
            let onig = c["onig"]!.arrayValue!.map { $0.stringValue! }
            XCTAssertEqual(ours.map(visible), onig.map(visible), "\(c["pattern"]!.stringValue!) on \"\(visible(text))\"")
            let py = c["python_regex"]!.arrayValue?.map { $0.stringValue! }.filter { !$0.isEmpty }
            if py != onig { differFromPython += 1 }
        }
        XCTAssertGreaterThan(differFromPython, 0)  // the fixture does show where they differ
    }
}
