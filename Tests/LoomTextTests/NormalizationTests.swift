import LoomCore
import LoomText
import XCTest

/// NFC/NFD/NFKC/NFKD against Python's unicodedata (Fixtures/tokenizers/normalization.json).
final class NormalizationTests: XCTestCase {
    func testAgainstUnicodedata() throws {
        let cases = try TextFixture.json("Fixtures/tokenizers/normalization.json")["cases"]!.arrayValue!
        XCTAssertGreaterThan(cases.count, 200)
        var checked = 0
        for c in cases {
            let text = c["text"]!.stringValue!
            for (key, form) in [("nfc", UnicodeNormalization.Form.nfc), ("nfd", .nfd), ("nfkc", .nfkc), ("nfkd", .nfkd)] {
                let got = UnicodeNormalization.normalize(text, form)
                let want = c[key]!.stringValue!
                // Compare scalars: String == would itself apply canonical equivalence.
                XCTAssertEqual(got.unicodeScalars.map { $0.value }, want.unicodeScalars.map { $0.value }, "\(key) of \"\(visible(text))\"")
                checked += 1
            }
        }
        XCTAssertEqual(checked, cases.count * 4)
    }

    func testHangulAndOrdering() {
        func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map { $0.value } }
        XCTAssertEqual(UnicodeNormalization.normalize(scalars("\u{AC01}"), .nfd), [0x1100, 0x1161, 0x11A8])
        XCTAssertEqual(UnicodeNormalization.normalize([0x1100, 0x1161, 0x11A8], .nfc), [0xAC01])
        // Marks sorted by combining class (220 below before 230 above), then composed.
        XCTAssertEqual(UnicodeNormalization.normalize([0x61, 0x301, 0x316], .nfd), [0x61, 0x316, 0x301])
        XCTAssertEqual(UnicodeNormalization.normalize([0x61, 0x316, 0x301], .nfc), [0xE1, 0x316])
        XCTAssertEqual(UnicodeNormalization.normalize([0xFB01], .nfkc), [0x66, 0x69])
        XCTAssertEqual(UnicodeNormalization.normalize([0xFB01], .nfc), [0xFB01])
        XCTAssertEqual(UnicodeNormalization.normalize([], .nfkc), [])
    }
}
