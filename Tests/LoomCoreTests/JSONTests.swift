import LoomCore
import XCTest

final class JSONTests: XCTestCase {
    #if DEBUG
    static let scale = 1
    #else
    static let scale = 8
    #endif

    struct RNG {
        var source: PhiloxSequence
        init(state: UInt64) { source = PhiloxSequence(seed: state) }
        mutating func next() -> UInt64 { source.next() }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    func parse(_ s: String) throws -> JSONValue { try JSONValue.parse(s) }

    func parseError(_ s: String) -> JSONError? {
        do { _ = try JSONValue.parse(s); return nil } catch { return error }
    }

    func parseError(bytes: [UInt8]) -> JSONError? {
        do { _ = try JSONValue.parse(utf8: bytes); return nil } catch { return error }
    }

    // MARK: acceptance

    func testValidDocuments() throws {
        let cases: [(String, JSONValue)] = [
            ("0", .number(JSONNumber(text: "0")!)),
            ("-0", .number(JSONNumber(text: "-0")!)),
            (" 1.5e10 ", .number(JSONNumber(text: "1.5e10")!)),
            ("1E400", .number(JSONNumber(text: "1E400")!)),
            ("\"\"", .string("")),
            ("true", .bool(true)), ("false", .bool(false)), ("null", .null),
            ("[]", .array([])), ("{}", .object(JSONObject())),
            (" [ 1 , \"a\" ]\n", .array([.number(1), .string("a")])),
            ("\t{\"a\":{\"b\":[true,false,null]}}\r\n", .object(JSONObject([("a", .object(JSONObject([("b", .array([.bool(true), .bool(false), .null]))])))]))),
            ("\"\\u00e9\\ud83d\\ude00\\u0041\\u20AC\"", .string("é😀A€")),
            ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", .string("\"\\/\u{8}\u{C}\n\r\t")),
            ("\"\\u0000\"", .string("\u{0}")),
            ("\"é😀\u{7F}\u{10FFFF}\"", .string("é😀\u{7F}\u{10FFFF}")),
            ("[[[]], {}, [{}]]", .array([.array([.array([])]), .object(JSONObject()), .array([.object(JSONObject())])])),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try parse(text), expected, text)
        }
        XCTAssertNil(try parse("1E400").numberValue?.double)
        XCTAssertEqual(try parse("123456789012345678901234567890.12345678901234567890").numberValue?.text,
                       "123456789012345678901234567890.12345678901234567890")
    }

    // MARK: rejection with position

    func testInvalidDocuments() {
        let cases: [(String, Int, Int, String)] = [
            ("", 1, 1, "empty document"),
            ("   ", 1, 4, "empty document"),
            ("[1,]", 1, 4, "trailing comma before ']'"),
            ("{\"a\":1,}", 1, 8, "trailing comma before '}'"),
            ("01", 1, 1, "leading zeros"),
            ("[-01]", 1, 2, "leading zeros"),
            ("\"\\x\"", 1, 2, "invalid escape sequence '\\x' in string"),
            ("\"a\tb\"", 1, 3, "unescaped control character U+0009"),
            ("\"\\uD800\"", 1, 2, "unpaired high surrogate \\uD800"),
            ("\"\\uDC00\"", 1, 2, "unpaired low surrogate \\uDC00"),
            ("\"\\uD800\\u0041\"", 1, 2, "unpaired high surrogate"),
            ("\"\\uDBFF\\uDBFF\"", 1, 2, "unpaired high surrogate"),
            ("\"\\u12G4\"", 1, 2, "expected 4 hex digits"),
            ("\"\\u12", 1, 2, "expected 4 hex digits"),
            ("[1] x", 1, 5, "unexpected 'x' after the JSON value"),
            ("1 2", 1, 3, "after the JSON value"),
            ("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, "expected ',' or '}' after object member"),
            ("{\"a\":1,\"a\":2}", 1, 8, "duplicate key \"a\""),
            ("[1,2", 1, 5, "expected ',' or ']' after array element, found end of input"),
            ("[", 1, 2, "unexpected end of input"),
            ("[1,,2]", 1, 4, "unexpected ',': expected a value"),
            ("[1 2]", 1, 4, "expected ',' or ']'"),
            ("{\"a\" 1}", 1, 6, "expected ':' after object key"),
            ("{\"a\":}", 1, 6, "expected a value"),
            ("{1:2}", 1, 2, "expected '\"' to begin an object key or '}'"),
            ("{\"a\":1,2}", 1, 8, "expected '\"' to begin an object key"),
            ("\"abc", 1, 1, "unterminated string"),
            ("tru", 1, 1, "invalid literal"),
            ("nulll", 1, 5, "after the JSON value"),
            ("-", 1, 2, "expected a digit after '-'"),
            ("-a", 1, 2, "expected a digit after '-'"),
            ("1.", 1, 3, "decimal point"),
            ("1.e5", 1, 3, "decimal point"),
            ("1e", 1, 3, "exponent"),
            ("1e+", 1, 4, "exponent"),
            (".5", 1, 1, "unexpected '.'"),
            ("+1", 1, 1, "unexpected '+'"),
            ("NaN", 1, 1, "unexpected 'N'"),
            ("Infinity", 1, 1, "unexpected 'I'"),
            ("'a'", 1, 1, "unexpected '''"),
            ("\u{FEFF}{}", 1, 1, "byte order mark"),
            ("[\"é\", x]", 1, 7, "unexpected 'x'"),
            ("[\r\n1,\r\n]", 3, 1, "trailing comma"),
            ("[\"a\"\n,\n\"b\"\n", 4, 1, "found end of input"),
            ("\u{0}", 1, 1, "byte 0x00"),
            ("[1]]", 1, 4, "unexpected ']' after the JSON value"),
            ("{\"a\":1}}", 1, 8, "after the JSON value"),
            ("[}", 1, 2, "unexpected '}'"),
            ("{]", 1, 2, "expected '\"' to begin an object key or '}'"),
        ]
        for (text, line, column, message) in cases {
            guard let e = parseError(text) else { XCTFail("accepted: \(text.debugDescription)"); continue }
            XCTAssertEqual(e.line, line, "\(text.debugDescription): \(e)")
            XCTAssertEqual(e.column, column, "\(text.debugDescription): \(e)")
            XCTAssertTrue(e.message.contains(message), "\(text.debugDescription): \(e)")
        }
    }

    func testErrorDescription() {
        let text = "{\n  \"x\": 1,\n  \"name\": 12 3}"
        XCTAssertEqual(parseError(text)?.description, "line 3, column 14: expected ',' or '}' after object member, found '3'")
        XCTAssertEqual(parseError("[1,]"), JSONError(message: "trailing comma before ']'", line: 1, column: 4, offset: 3))
    }

    func testInvalidUTF8() {
        let cases: [[UInt8]] = [
            [0x22, 0xC3, 0x28, 0x22],              // bad continuation
            [0x22, 0xC0, 0xAF, 0x22],              // overlong '/'
            [0x22, 0xE0, 0x80, 0xAF, 0x22],        // overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22],        // UTF-8 encoded surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
            [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22],
            [0x22, 0x80, 0x22],                    // lone continuation
            [0x22, 0xE2, 0x82, 0x22],              // truncated
            [0x22, 0xFF, 0x22],
        ]
        for bytes in cases {
            let e = parseError(bytes: bytes)
            XCTAssertNotNil(e, "\(bytes)")
            XCTAssertEqual(e?.column, 2, "\(bytes)")
            XCTAssertTrue(e?.message.contains("invalid UTF-8") ?? false, "\(bytes)")
        }
        XCTAssertNotNil(parseError(bytes: [0x5B, 0xC3, 0xA9, 0x5D]))  // non-ASCII outside a string
        XCTAssertEqual(try JSONValue.parse(utf8: [0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22]), .string("😀"))
        XCTAssertEqual(try JSONValue.parse(utf8: [0x22, 0xEF, 0xBF, 0xBF, 0x22]), .string("\u{FFFF}"))
    }

    // MARK: nesting

    func testNestingLimit() throws {
        let limit = JSONValue.defaultMaxDepth
        let ok = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        var v = try parse(ok)
        var depth = 0
        while case .array(let a) = v, let first = a.first { v = first; depth += 1 }
        XCTAssertEqual(depth + 1, limit)
        XCTAssertEqual(try parse(ok).serialized(), ok)

        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        let e = parseError(tooDeep)
        XCTAssertEqual(e?.message, "nesting deeper than \(limit) levels")
        XCTAssertEqual(e?.column, limit + 1)

        let objects = String(repeating: "{\"a\":", count: limit) + "1" + String(repeating: "}", count: limit)
        XCTAssertNoThrow(try parse(objects))
        let objectsTooDeep = String(repeating: "{\"a\":", count: limit + 1) + "1" + String(repeating: "}", count: limit + 1)
        XCTAssertEqual(parseError(objectsTooDeep)?.message, "nesting deeper than \(limit) levels")

        XCTAssertThrowsError(try JSONValue.parse("[[[1]]]", maxDepth: 2))
        XCTAssertNoThrow(try JSONValue.parse("[[1]]", maxDepth: 2))
        // Far beyond the limit: an error, not a stack overflow.
        XCTAssertNotNil(parseError(String(repeating: "[", count: 100_000)))
    }

    // MARK: objects

    func testKeyOrderAndObjectAPI() throws {
        let text = "{\"z\":1,\"a\":2,\"m\":{\"y\":true,\"b\":null}}"
        let v = try parse(text)
        XCTAssertEqual(v.objectValue?.keys, ["z", "a", "m"])
        XCTAssertEqual(v["m"]?.objectValue?.keys, ["y", "b"])
        XCTAssertEqual(v.serialized(), text)
        XCTAssertEqual(v["a"]?.numberValue?.int, 2)
        XCTAssertEqual(v["m"]?["y"]?.boolValue, true)
        XCTAssertEqual(v["m"]?["b"]?.isNull, true)
        XCTAssertNil(v["missing"])
        XCTAssertNil(v["z"]?["x"])

        var o = v.objectValue!
        o.set("a", .string("new"))
        o.set("q", .array([]))
        XCTAssertEqual(o.keys, ["z", "a", "m", "q"])
        XCTAssertEqual(o["a"]?.stringValue, "new")
        XCTAssertEqual(o.removeValue(forKey: "z"), .number(1))
        XCTAssertEqual(o.keys, ["a", "m", "q"])
        XCTAssertNil(o.removeValue(forKey: "z"))

        // Large objects (hash index) behave the same.
        var big = JSONObject()
        for i in 0..<300 { big.set("k\(299 - i)", .number(i)) }
        big.set("k5", .null)
        XCTAssertEqual(big.count, 300)
        XCTAssertEqual(big.keys.first, "k299")
        XCTAssertEqual(big["k5"], .null)
        XCTAssertEqual(big["k0"]?.numberValue?.int, 299)
        big.removeValue(forKey: "k100")
        XCTAssertNil(big["k100"])
        XCTAssertEqual(big["k99"]?.numberValue?.int, 200)
        let reparsed = try parse(JSONValue.object(big).serialized())
        XCTAssertEqual(reparsed, .object(big))
        XCTAssertEqual(reparsed.objectValue?.keys, big.keys)

        // Duplicate detection in large objects, and keys compared by bytes ("é" precomposed vs not).
        var dup = "{"
        for i in 0..<100 { dup += "\"k\(i)\":\(i)," }
        dup += "\"k42\":0}"
        XCTAssertEqual(parseError(dup)?.message, "duplicate key \"k42\"")
        let nfc = try parse("{\"\u{E9}\":1,\"e\u{301}\":2}")
        XCTAssertEqual(nfc.objectValue?.count, 2)
        XCTAssertEqual(nfc["e\u{301}"]?.numberValue?.int, 2)
    }

    // MARK: writer

    func testStringEscaping() throws {
        var s = ""
        for c in 0..<32 { s.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        s += "\"\\/é😀\u{7F}"
        let out = JSONValue.string(s).serialized()
        XCTAssertEqual(out, "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
            + "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"
            + "\\\"\\\\/é😀\u{7F}\"")
        XCTAssertEqual(try parse(out), .string(s))
    }

    func testPrettyStyle() throws {
        var o = JSONObject()
        o.set("format", .string("loom"))
        o.set("shape", .array([.number(64), .number(10)]))
        o.set("empty", .array([]))
        o.set("none", .object(JSONObject()))
        o.set("layers", .array([.object(JSONObject([("type", .string("dense")), ("units", .number(128))])), .number(1)]))
        o.set("mixed", .array([.array([]), .object(JSONObject()), .null]))
        o.set("x", JSONValue.number(0.5)!)
        let expected = """
        {
          "format": "loom",
          "shape": [64, 10],
          "empty": [],
          "none": {},
          "layers": [
            {
              "type": "dense",
              "units": 128
            },
            1
          ],
          "mixed": [[], {}, null],
          "x": 0.5
        }
        """
        XCTAssertEqual(JSONValue.object(o).serialized(pretty: true), expected)
        XCTAssertEqual(JSONValue.object(o).serialized(),
                       "{\"format\":\"loom\",\"shape\":[64,10],\"empty\":[],\"none\":{},\"layers\":[{\"type\":\"dense\",\"units\":128},1],\"mixed\":[[],{},null],\"x\":0.5}")
        XCTAssertEqual(try parse(expected), .object(o))
        XCTAssertEqual(Array(JSONValue.object(o).serialized(pretty: true).utf8), JSONValue.object(o).serializedBytes(pretty: true))
    }

    // MARK: round trips and fuzz

    func randomValue(_ rng: inout RNG, depth: Int) -> JSONValue {
        let kind = depth > 4 ? rng.below(4) : rng.below(6)
        switch kind {
        case 0: return rng.below(2) == 0 ? .null : .bool(rng.below(2) == 0)
        case 1:
            switch rng.below(4) {
            case 0: return .number(Int(truncatingIfNeeded: rng.next()) >> rng.below(64))
            case 1: return .number(JSONNumber(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)) ?? JSONNumber(0))
            case 2: return .number(JSONNumber(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0xFF7F_FFFF)) ?? JSONNumber(0))
            default: return .number(JSONNumber(text: "-123456789012345678901234567890.5e-7")!)
            }
        case 2, 3:
            let pool: [Unicode.Scalar] = ["a", "Z", " ", "\"", "\\", "/", "\n", "\u{0}", "\u{1F}", "é", "€", "😀", "\u{7F}", "\u{FFFF}", "\u{10FFFF}"]
            var s = ""
            for _ in 0..<rng.below(8) { s.unicodeScalars.append(pool[rng.below(pool.count)]) }
            return .string(s)
        case 4:
            return .array((0..<rng.below(5)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var o = JSONObject()
            for _ in 0..<rng.below(5) {
                o.set("k" + String(rng.below(6)) + (rng.below(3) == 0 ? "é\n" : ""), randomValue(&rng, depth: depth + 1))
            }
            return .object(o)
        }
    }

    func testRoundTrips() throws {
        var rng = RNG(state: 11)
        for _ in 0..<(2_000 * JSONTests.scale) {
            let v = randomValue(&rng, depth: 0)
            for pretty in [false, true] {
                let text = v.serialized(pretty: pretty)
                let back = try JSONValue.parse(text)
                XCTAssertEqual(back, v, text)
                XCTAssertEqual(back.serialized(pretty: pretty), text)
                XCTAssertEqual(try JSONValue.parse(utf8: Array(text.utf8)), v)
            }
        }
    }

    func testFuzzNeverCrashes() {
        var rng = RNG(state: 12)
        let alphabet: [UInt8] = Array("{}[]:,\"\\ \n01-+.eEtrufalsn9u\u{7F}".utf8) + [0x00, 0x1F, 0xC3, 0xA9, 0xED, 0xA0, 0xF0, 0x9F, 0xFF]
        var seed = Array("{\"a\":[1,2.5e-3,{\"b\":\"\\u00e9\\ud83d\\ude00\"}],\"c\":null,\"d\":true}".utf8)
        var accepted = 0
        for i in 0..<(20_000 * JSONTests.scale) {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = (0..<rng.below(24)).map { _ in rng.below(4) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[rng.below(alphabet.count)] }
            } else {
                bytes = seed
                for _ in 0..<(1 + rng.below(3)) {
                    let p = rng.below(bytes.count + 1)
                    switch rng.below(3) {
                    case 0: if p < bytes.count { bytes.remove(at: p) }
                    case 1: bytes.insert(alphabet[rng.below(alphabet.count)], at: p)
                    default: if p < bytes.count { bytes[p] = alphabet[rng.below(alphabet.count)] }
                    }
                }
            }
            do {
                let v = try JSONValue.parse(utf8: bytes)
                accepted += 1
                XCTAssertEqual(try JSONValue.parse(v.serialized()), v)
                if i % 7 == 1 { seed = bytes.count < 200 ? bytes : seed }
            } catch {
                XCTAssertGreaterThanOrEqual(error.line, 1)
                XCTAssertGreaterThanOrEqual(error.column, 1)
                XCTAssertLessThanOrEqual(error.offset, bytes.count)
            }
        }
        XCTAssertGreaterThan(accepted, 0)
    }

    func testLargeDocument() throws {
        // No quadratic behaviour: a big flat array and a big object parse quickly.
        let n = 20_000 * JSONTests.scale
        var text = "{\"data\":["
        for i in 0..<n { text += (i == 0 ? "" : ",") + String(Double(i) * 0.001) }
        text += "],\"names\":{"
        for i in 0..<(n / 10) { text += (i == 0 ? "" : ",") + "\"key\(i)\":\"value \(i)\"" }
        text += "}}"
        let v = try JSONValue.parse(text)
        XCTAssertEqual(v["data"]?.arrayValue?.count, n)
        XCTAssertEqual(v["data"]?[7]?.numberValue?.double, 0.007)
        XCTAssertEqual(v["names"]?["key\(n / 20)"]?.stringValue, "value \(n / 20)")
        XCTAssertEqual(v.serialized(), text)
    }
}
