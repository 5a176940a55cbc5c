import Foundation
import LoomCore
import XCTest

final class Base64Tests: XCTestCase {
    func decodeError(_ s: String) -> Base64Error? {
        do { _ = try Base64.decode(s); return nil } catch { return error }
    }

    func testRFC4648Vectors() throws {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                       ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(try Base64.decode(encoded), Array(plain.utf8))
        }
        XCTAssertEqual(Base64.encode([0xFB, 0xFF, 0xBF]), "+/+/")
        XCTAssertEqual(try Base64.decode("+/+/"), [0xFB, 0xFF, 0xBF])
        XCTAssertEqual(Base64.encode(Array(0...255)), Data(Array(0...255)).base64EncodedString())
    }

    func testRandomRoundTrips() throws {
        var state: UInt64 = 99
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 24
        }
        for _ in 0..<2_000 {
            let bytes = (0..<Int(next() % 200)).map { _ in UInt8(truncatingIfNeeded: next()) }
            let text = Base64.encode(bytes)
            XCTAssertEqual(text, Data(bytes).base64EncodedString())
            XCTAssertEqual(try Base64.decode(text), bytes)
        }
        // Float weights stored exactly.
        let weights: [Float] = [0.1, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .nan]
        var raw: [UInt8] = []
        for w in weights { withUnsafeBytes(of: w.bitPattern.littleEndian) { raw += $0 } }
        XCTAssertEqual(try Base64.decode(Base64.encode(raw)), raw)
    }

    func testErrors() {
        let cases: [(String, Int, String)] = [
            ("Zm9v!A==", 4, "invalid character '!'"),
            ("Zm 9v", 2, "invalid character ' '"),
            ("Zm9v\n", 4, "invalid character byte 0x0A"),
            ("Zm9", 3, "not a multiple of 4"),
            ("Zm9vY", 5, "not a multiple of 4"),
            ("Z===", 1, "misplaced padding"),
            ("====", 0, "misplaced padding"),
            ("Zg=a", 2, "misplaced padding"),
            ("Zg==Zg==", 2, "misplaced padding"),
            ("Zm8=Zm8=", 3, "misplaced padding"),
            ("Zh==", 1, "nonzero bits"),
            ("Zm9=", 2, "nonzero bits"),
            ("Zm-v", 2, "invalid character '-'"),
            ("Zm_v", 2, "invalid character '_'"),
            ("Zm9vé===", 4, "invalid character byte 0xC3"),
        ]
        for (text, position, message) in cases {
            guard let e = decodeError(text) else { XCTFail("accepted \(text.debugDescription)"); continue }
            XCTAssertEqual(e.position, position, "\(text.debugDescription): \(e)")
            XCTAssertTrue(e.message.contains(message), "\(text.debugDescription): \(e)")
        }
        XCTAssertEqual(decodeError("ab!d")?.description, "position 2: invalid character '!'")
    }
}
