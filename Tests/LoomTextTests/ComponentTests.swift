import Foundation
import LoomCore
import LoomText
import XCTest

/// Small tokenizers built with the `tokenizers` library, one per group of components
/// (Fixtures/tokenizers/components.json): their ids and decodes on a set of strings.
final class ComponentTests: XCTestCase {
    func testComponentTokenizers() throws {
        let root = try TextFixture.json("Fixtures/tokenizers/components.json")
        let list = root["tokenizers"]!.arrayValue!
        XCTAssertGreaterThanOrEqual(list.count, 10)
        var checked = 0
        for entry in list {
            let name = entry["name"]!.stringValue!
            let t = try Tokenizer(json: entry["tokenizer"]!)
            for c in entry["cases"]!.arrayValue! {
                let text = c["text"]!.stringValue!
                let ids = ints(c["ids"])
                XCTAssertEqual(try t.encode(text), ids, "\(name): \"\(visible(text))\"")
                XCTAssertEqual(try t.encode(text, addSpecialTokens: false), ints(c["ids_plain"]), "\(name) (no special tokens): \"\(visible(text))\"")
                XCTAssertEqual(visible(try t.decode(ids)), visible(c["decode"]!.stringValue!), "\(name) decode: \"\(visible(text))\"")
                XCTAssertEqual(visible(try t.decode(ids, skipSpecialTokens: true)), visible(c["decode_skip"]!.stringValue!), "\(name) decode skipping special: \"\(visible(text))\"")
                checked += 1
            }
            let pair = entry["pair"]!
            XCTAssertEqual(try t.encode(pair["a"]!.stringValue!, pair: pair["b"]!.stringValue!), ints(pair["ids"]), "\(name): pair")
        }
        XCTAssertGreaterThan(checked, 300)
    }
}
