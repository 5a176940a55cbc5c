import LoomCore
import LoomText
import XCTest

/// Mutated tokenizer.json files: every mutation either loads (and then encodes and decodes
/// without trapping) or is refused with a LoomError — never a crash.
final class FuzzTests: XCTestCase {
    struct SplitMix { var s: UInt64; mutating func next() -> UInt64 { s &+= 0x9E37_79B9_7F4A_7C15; var z = s; z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB; return z ^ (z >> 31) } }

    static let replacements: [JSONValue] = [
        .null, .number(0), .number(-1), .number(7), .number(1 << 40), .string(""), .string("x"), .string("Isolated"),
        .string("BPE"), .string("(?:"), .string("\\p{L}+"), .bool(true), .bool(false), .array([]), .object(JSONObject()),
        .array([.string("a"), .string("b")]), .object(JSONObject([("String", .string(" "))])),
        .object(JSONObject([("Regex", .string("\\s+|(a)*"))])),
    ]

    /// Every value in the tree, by a path of keys/indices.
    static func paths(_ v: JSONValue, _ prefix: [JSONPathItem], into out: inout [[JSONPathItem]]) {
        out.append(prefix)
        switch v {
        case .object(let o): for (k, x) in o.members { paths(x, prefix + [.key(k)], into: &out) }
        case .array(let a): for (i, x) in a.enumerated() where i < 8 { paths(x, prefix + [.index(i)], into: &out) }
        default: break
        }
    }

    enum JSONPathItem { case key(String), index(Int) }

    static func replacing(_ v: JSONValue, at path: ArraySlice<JSONPathItem>, with r: JSONValue) -> JSONValue {
        guard let first = path.first else { return r }
        switch (v, first) {
        case (.object(var o), .key(let k)):
            guard let x = o[k] else { return v }  // an earlier mutation removed it
            o.set(k, replacing(x, at: path.dropFirst(), with: r))
            return .object(o)
        case (.array(var a), .index(let i)):
            guard i < a.count else { return v }
            a[i] = replacing(a[i], at: path.dropFirst(), with: r)
            return .array(a)
        default: return v
        }
    }

    func testMutatedTokenizers() throws {
        let list = try TextFixture.json("Fixtures/tokenizers/components.json")["tokenizers"]!.arrayValue!
        var rng = SplitMix(s: 42)
        var loaded = 0, refused = 0
        for entry in list {
            let base = entry["tokenizer"]!
            var all = [[JSONPathItem]]()
            Self.paths(base, [], into: &all)
            for _ in 0..<150 {
                var doc = base
                for _ in 0..<(1 + Int(rng.next() % 2)) {
                    let p = all[Int(rng.next() % UInt64(all.count))]
                    let r = Self.replacements[Int(rng.next() % UInt64(Self.replacements.count))]
                    doc = Self.replacing(doc, at: p[...], with: r)
                }
                do {
                    let t = try Tokenizer(json: doc)
                    loaded += 1
                    for s in ["hello world", "Hello, Wörld! 12 <s> [MASK]", " ", ""] {
                        let ids = try t.encode(s, pair: "x y")
                        for id in ids { XCTAssertNotNil(t.token(id), "id \(id) has no token") }
                        _ = try t.decode(ids, skipSpecialTokens: true)
                    }
                } catch {
                    refused += 1
                    XCTAssertFalse(error.message.isEmpty)
                }
            }
        }
        XCTAssertGreaterThan(loaded, 30)
        XCTAssertGreaterThan(refused, 100)
    }
}
